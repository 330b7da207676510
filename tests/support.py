"""Test doubles that sit behind the bot's ports (never inside our own code)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.messages import Delivery, Outgoing


@dataclass
class RecordingSender:
    """An adapter that records what it was asked to send, as a platform would receive it."""

    platform: str = "console"
    sent: list[tuple[Delivery, Outgoing]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.sent.append((delivery, message))
        return f"{self.platform}-{next(self._ids)}"

    def to(self, person_id: str) -> list[Outgoing]:
        return [m for _, m in self.sent if m.person_id == person_id]
