"""The outbound port every adapter implements, and the errors it may raise."""

from __future__ import annotations

from typing import Protocol

from bot.messages import Delivery, Op, Outgoing


class Sender(Protocol):
    """Delivers one neutral message on one platform; returns the platform's message id.

    `supports` names the operations it can carry out; the outbox hands it no other (an operation
    a platform has no use for, such as a home view on the terminal, is set aside as
    `Unsupported`, not sent)."""

    platform: str
    supports: frozenset[Op]

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


class Unsupported(DeliveryError):
    """The person's platform has no such operation (e.g. a home view in Teams)."""

    def __init__(self, platform: str, op: Op) -> None:
        super().__init__(f"{platform} does not support {op.value}", permanent=True)
        self.platform = platform
        self.op = op
