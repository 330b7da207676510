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
        """Wait for the next slot if it is at most `max_wait` seconds away; otherwise raise
        `DeliveryError(retry_after=...)`, not counted as an attempt."""
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


class LaneSlots:
    """A conversation's slots booked for several messages at once: a lane sending a person's
    messages one after another books those that follow with the first (one statement, not one
    each). While they are being sent nobody else posts to the person's conversation (a person's
    messages go in order, one at a time), so the slots are the lane's; any other sender to a
    shared channel books after them in the same bucket. One not used within STALE seconds of its
    time (the lane stopped at a retry) is dropped: a little of the rate lost, never exceeded.
    (Dropped sooner, slots a lane waited past for the workspace's turn would be lost too, and
    each loss pushes the conversation's next slot a second away: at a fan-out with three
    replicas that cost a third more time.)"""

    STALE = 1.0
    KEPT = 256  # conversations with slots kept before the stale ones are swept out

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ahead: dict[str, deque[float]] = {}  # by bucket key: monotonic times booked

    async def take(self, bucket: Bucket, max_wait: float, count: int = 1) -> None:
        """The conversation's next slot, booked with `count - 1` more for the messages that
        follow when none is kept; raises as `SharedSlots.take` when the first is too far away."""
        now = time.monotonic()
        kept = self._ahead.pop(bucket.key, None)
        while kept and kept[0] < now - self.STALE:
            kept.popleft()
        if kept:
            at = kept.popleft()
            if kept:
                self._ahead[bucket.key] = kept
        else:
            slot = await pacing.reserve(self.store, bucket, max_wait, count=max(1, count))
            if not slot.booked:
                raise DeliveryError("paced", retry_after=slot.wait, attempted=False)
            booked_at = time.monotonic()
            at = booked_at + slot.waits[0]
            if len(slot.waits) > 1:
                self._sweep(booked_at)
                self._ahead[bucket.key] = deque(booked_at + wait for wait in slot.waits[1:])
        if at > time.monotonic():
            await asyncio.sleep(at - time.monotonic())

    def forget(self, key: str | None = None) -> None:
        """The platform said 429: the slots kept for this bucket (or for all) are no use now."""
        if key is None:
            self._ahead.clear()
        else:
            self._ahead.pop(key, None)

    def _sweep(self, now: float) -> None:
        if len(self._ahead) >= self.KEPT:
            for key in [k for k, times in self._ahead.items() if times[-1] < now - self.STALE]:
                del self._ahead[key]


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
