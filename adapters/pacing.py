"""Taking a send's slot in the shared pacing buckets (storage.pacing), as both platforms' senders
do before each call that a platform limits.

A slot a little way off is waited for in place; one further off is not: the send goes back to
the outbox with `retry_after` (booking nothing), because sleeping would hold one of the outbox's
few lanes, and everyone queued behind it, while the person's later messages wait behind this one
in the outbox anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from bot.ports import DeliveryError
from storage import pacing
from storage.db import Store
from storage.pacing import Bucket


async def take_slot(store: Store, bucket: Bucket, max_wait: float) -> None:
    """Wait for the bucket's next slot if it is at most `max_wait` seconds away; otherwise raise
    `DeliveryError(retry_after=...)`, not counted as an attempt."""
    slot = await pacing.reserve(store, bucket, max_wait)
    if not slot.booked:
        raise DeliveryError("paced", retry_after=slot.wait, attempted=False)
    if slot.wait > 0:
        await asyncio.sleep(slot.wait)


class SharedSlots:
    """A busy bucket that all of a sender's lanes share (a Slack workspace, a Teams tenant),
    booked a block of slots at a time: one statement for `block` sends instead of one each.
    The slots are the bucket's as for single sends, only handed out here in their order; one
    not used within a second is dropped (a little of the rate is lost, never exceeded)."""

    STALE = 1.0

    def __init__(self, store: Store, bucket: Bucket, max_wait: float, block: int) -> None:
        self.store, self.bucket, self.max_wait, self.block = store, bucket, max_wait, max(1, block)
        self._slots: deque[float] = deque()  # when each booked slot is, on the monotonic clock
        self._booking: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def take(self) -> None:
        """Wait for the next slot, or raise `DeliveryError(retry_after=...)` as `take_slot`."""
        async with self._lock():
            now = time.monotonic()
            while self._slots and self._slots[0] < now - self.STALE:
                self._slots.popleft()
            if not self._slots:
                slot = await pacing.reserve(self.store, self.bucket, self.max_wait, count=self.block)
                if not slot.booked:
                    raise DeliveryError("paced", retry_after=slot.wait, attempted=False)
                booked_at = time.monotonic()
                self._slots.extend(booked_at + wait for wait in slot.waits)
            at = self._slots.popleft()
        if at > time.monotonic():
            await asyncio.sleep(at - time.monotonic())

    def forget(self) -> None:
        """The platform said 429: the slots booked are no use now."""
        self._slots.clear()

    def _lock(self) -> asyncio.Lock:
        # One booking at a time in this event loop (a lock belongs to the loop it is used in).
        loop = asyncio.get_running_loop()
        if self._booking is None or self._booking[0] is not loop:
            self._booking = (loop, asyncio.Lock())
        return self._booking[1]


def block_of(bucket: Bucket, seconds: float = 0.25) -> int:
    """How many slots a quarter of a second holds at the bucket's rate: few enough that a
    replica's unused ones cost little, enough to spare most statements at a fan-out."""
    return max(1, int(seconds / bucket.interval))


# A platform's 429 stops every replica's sends through the bucket for at most this long (on the
# database's clock). Long enough that the other replicas' lanes in flight stop together rather
# than each collecting a 429 of its own; no longer, because the full Retry-After is kept where
# the outbox's own clock keeps time (the refused message's next attempt, and the person's
# later ones behind it; Slack's sender also holds the method in its process): a hold on the
# database's clock alone would outlast a `tick --at` or a test's simulated hour. It is shorter
# than what senders wait for in place, so it never sends a message back to the outbox itself.
SHARED_HOLD = 1.0


async def hold_after_429(store: Store, bucket: Bucket, retry_after: float) -> None:
    await pacing.hold(store, bucket, min(retry_after, SHARED_HOLD))
