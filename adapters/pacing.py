"""Taking a send's slot in the shared pacing buckets (storage.pacing), as both platforms' senders
do before each call that a platform limits.

A slot a little way off is waited for in place; one further off is not: the send goes back to
the outbox with `retry_after` (booking nothing), because sleeping would hold one of the outbox's
few lanes, and everyone queued behind it, while the person's later messages wait behind this one
in the outbox anyway.
"""

from __future__ import annotations

import asyncio

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
