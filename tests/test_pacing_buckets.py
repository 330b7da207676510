"""Shared pacing's buckets in the database (SQLite and PostgreSQL): a burst, then one send per
interval; a refused send books nothing; a block of slots is booked at once; a lane's slots booked
together are its own; senders side by side get distinct slots; a 429's hold
stops everyone; idle buckets are pruned. Intervals are long (a minute), so that what is asserted
does not depend on how fast a loaded machine runs the statements."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from adapters.pacing import LaneSlots
from bot.ports import DeliveryError
from storage import pacing
from storage.db import Store
from storage.models import PacingBucket
from storage.pacing import Bucket

MINUTE = Bucket("slack:channel:D0RINA0001", interval=60.0, burst=3)


async def test_a_burst_goes_at_once_then_a_send_waits_an_interval(store: Store) -> None:
    slots = [await pacing.reserve(store, MINUTE) for _ in range(3)]
    assert all(s.booked and s.wait == 0 for s in slots)
    refused = await pacing.reserve(store, MINUTE)
    assert not refused.booked and 55 < refused.wait <= 60
    # The refused one booked nothing: asked to wait up to two minutes, the next books the slot
    # a minute away, and the one after it the slot two minutes away.
    waited = [await pacing.reserve(store, MINUTE, max_wait=150) for _ in range(3)]
    assert [s.booked for s in waited] == [True, True, False]
    assert 55 < waited[0].wait <= 60 and 115 < waited[1].wait <= 120
    other = await pacing.reserve(store, Bucket("slack:channel:D0BISHAL01", 60.0, 3))
    assert other.booked and other.wait == 0  # another channel is not held up


async def test_several_slots_are_booked_at_once_only_as_far_as_the_wait_allows(store: Store) -> None:
    bucket = Bucket("slack:workspace:T0BLOCKS01", interval=60.0, burst=2)
    # A fresh bucket: its burst of two at once, then one a minute, up to three minutes away.
    block = await pacing.reserve(store, bucket, max_wait=200, count=10)
    assert [round(w / 60) for w in block.waits] == [0, 0, 1, 2, 3] and block.booked
    # The next block starts where that one ended, and books no more than was asked for.
    after = await pacing.reserve(store, bucket, max_wait=400, count=2)
    assert [round(w / 60) for w in after.waits] == [4, 5]
    # One whose first slot is too far away books nothing: the slot after is still free.
    assert not (await pacing.reserve(store, bucket, max_wait=300, count=3)).booked
    assert [round(w / 60) for w in (await pacing.reserve(store, bucket, max_wait=400, count=1)).waits] == [6]


async def test_a_lane_books_the_messages_that_follow_with_the_first_and_keeps_them_its_own(store: Store) -> None:
    bucket = Bucket("slack:channel:D0LANE0001", interval=60.0, burst=3)
    lane = LaneSlots(store)
    await lane.take(bucket, max_wait=0.25, count=3)  # the first of a person's three messages
    # Another sender to the channel finds the three slots taken...
    other = await pacing.reserve(store, bucket)
    assert not other.booked and 55 < other.wait <= 60
    # ...while the lane's next two go at once, on the slots it booked.
    await asyncio.wait_for(lane.take(bucket, max_wait=0.25), timeout=5)
    await asyncio.wait_for(lane.take(bucket, max_wait=0.25), timeout=5)
    # A fourth has none kept and none free: it goes back to the outbox, not counted as an attempt.
    with pytest.raises(DeliveryError) as refused:
        await lane.take(bucket, max_wait=0.25)
    assert refused.value.retry_after is not None and 55 < refused.value.retry_after <= 60
    assert not refused.value.attempted


async def test_senders_side_by_side_each_get_their_own_slot(database_url: str, store: Store) -> None:
    stores = [Store(database_url) for _ in range(3)]
    try:
        bucket = Bucket("slack:workspace:T0TEAM0001", interval=60.0, burst=2)
        slots = await asyncio.gather(
            *(pacing.reserve(s, bucket, max_wait=1000) for s in stores for _ in range(4))
        )
    finally:
        for s in stores:
            await s.close()
    waits = sorted(round(s.wait / 60) for s in slots)
    assert waits == [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # twelve sends, no two in one slot


async def test_a_hold_after_a_429_stops_every_send_until_it_passes(store: Store) -> None:
    bucket = Bucket("teams:conversation:a:1", interval=1.0, burst=5)
    assert (await pacing.reserve(store, bucket)).booked
    await pacing.hold(store, bucket, 120.0)
    held = await pacing.reserve(store, bucket)
    assert not held.booked and 115 < held.wait <= 120
    await pacing.hold(store, Bucket("teams:conversation:a:2", 1.0, 5), 30.0)
    fresh = await pacing.reserve(store, Bucket("teams:conversation:a:2", 1.0, 5))
    assert not fresh.booked and 25 < fresh.wait <= 30  # a hold on a bucket never used before


async def test_idle_buckets_are_pruned_and_busy_ones_kept(store: Store) -> None:
    await pacing.reserve(store, Bucket("slack:channel:D0IDLE0001", interval=0.001))
    await pacing.reserve(store, MINUTE)
    await asyncio.sleep(0.05)
    assert await pacing.prune(store, idle=0.01) == 1
    async with store.reading() as session:
        keys = (await session.exec(select(PacingBucket.key))).all()
    assert keys == [MINUTE.key]
