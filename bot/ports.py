"""The outbound port every adapter implements, and the errors it may raise."""

from __future__ import annotations

from typing import Protocol

from bot.messages import Delivery, Outgoing


class Sender(Protocol):
    """Delivers one neutral message on one platform; returns the platform's message id."""

    platform: str

    async def send(self, delivery: Delivery, message: Outgoing) -> str: ...


class DeliveryError(Exception):
    """A send that failed. `retry_after` (seconds) when the platform said when to come back;
    `permanent` when trying again cannot help (e.g. the user cannot be reached at all);
    `attempted=False` when nothing was tried (our own pacing held it back), which does not count
    towards the attempts after which a message is given up."""

    def __init__(
        self, reason: str, retry_after: float | None = None, permanent: bool = False, attempted: bool = True
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent
        self.attempted = attempted
