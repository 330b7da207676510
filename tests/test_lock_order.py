"""Writes that touch many people take their locks in the order of the ids, as a batch of starts
does: a sweep writing next-due times while another process starts a batch of the same people
waits for it instead of deadlocking (stop 23's CI: two overlapping ticks, one aborted with
"deadlock detected" and its tick failed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from storage.db import Store
from storage.models import Person
from storage.people import person_for_update, remember_next_due
from tests.databases import KIND

pytestmark = pytest.mark.skipif(
    KIND != "postgresql",
    reason="row locks are PostgreSQL's: SQLite's BEGIN IMMEDIATE holds the whole database, so two "
    "writers never hold people in different orders",
)

DUE = datetime(2027, 4, 13, 4, 15, tzinfo=UTC)


async def _waiting_for_a_lock(store: Store) -> int:
    async with store.reading() as session:
        found = await session.exec(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one())


async def test_next_due_times_given_out_of_order_wait_for_a_batch_instead_of_deadlocking(programme: Store) -> None:
    async with programme.reading() as session:
        people = (await session.exec(select(Person).order_by(col(Person.id)))).all()
    first, second = people[0], people[1]

    async def write_next_due() -> None:
        async with programme.session() as session:
            # The later id first, as a snapshot's order may give them.
            await remember_next_due(
                session, [(second.id, second.plan_version, DUE), (first.id, first.plan_version, DUE)]
            )

    async with programme.session() as batch:
        # A batch of starts locks in id order: the first person now...
        assert await person_for_update(batch, first.id) is not None
        writer = asyncio.create_task(write_next_due())
        for _ in range(200):
            if await _waiting_for_a_lock(programme):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the next-due write never waited for the batch's lock")
        # ...and the second next. Had the writer locked the second person on its way to the
        # first, PostgreSQL would abort one of the two here (after its 1 s deadlock_timeout).
        assert await person_for_update(batch, second.id) is not None
        await asyncio.sleep(1.5)
    await asyncio.wait_for(writer, timeout=30)

    async with programme.reading() as session:
        written = (await session.exec(select(Person).where(col(Person.id).in_([first.id, second.id])))).all()
    assert {p.id: p.next_due_at for p in written} == {first.id: DUE, second.id: DUE}
