"""Reminders after silence: counted from the last reminder actually sent, on working days, never
two to a person at one instant or on one day, and at most `max` for a question."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.plan import plan_for
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.models import OutboxMessage, Person
from tests.support import RecordingSender
from tests.test_scheduler_clock import FILE, add_working_days, working, zone

PERSON = "tanvir"
AFTER, MOST = FILE["programme"]["reminders"]["after_days"], FILE["programme"]["reminders"]["max"]


async def silent_midpoint(store: Store) -> tuple[Sweeps, datetime]:
    """Tanvir's midpoint opened and its first question asked; he never answers."""
    engine = Engine(store)
    sweeps = Sweeps(engine, Deliverer(store, {"console": RecordingSender()}))
    async with store.session() as session:
        person = await session.get(Person, PERSON)
        assert person is not None
        planned = next(p for p in await plan_for(session, person) if p.flow == "midpoint")
    await engine.start(PERSON, planned, planned.due_at)
    return sweeps, planned.due_at


async def reminders(store: Store) -> list[OutboxMessage]:
    async with store.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.key).startswith("remind:"), OutboxMessage.person_id == PERSON
            )
        )
        return sorted(rows.all(), key=lambda r: r.created_at)


def morning(day: datetime, hour: int, minute: int = 0) -> datetime:
    local = day.astimezone(zone(PERSON)).date()
    return datetime.combine(local, time(hour, minute), tzinfo=zone(PERSON)).astimezone(UTC)


async def test_the_same_instant_ticked_twice_after_a_week_of_silence_sends_one_reminder(
    programme: Store,
) -> None:
    sweeps, asked = await silent_midpoint(programme)
    day = asked + timedelta(days=7)
    while not working(PERSON, day.astimezone(zone(PERSON)).date()):
        day += timedelta(days=1)
    instant = morning(day, 10, 30)
    await sweeps.run_all(instant)
    await sweeps.run_all(instant)
    assert len(await reminders(programme)) == 1
    # Later that day too: one reminder a day at most.
    await sweeps.run_all(instant + timedelta(hours=3))
    assert len(await reminders(programme)) == 1


async def test_over_two_weeks_of_silence_max_reminders_spaced_by_working_days(programme: Store) -> None:
    sweeps, asked = await silent_midpoint(programme)
    for days, hour in itertools.product(range(1, 15), (9, 10, 11, 12)):
        await sweeps.run_all(morning(asked + timedelta(days=days), hour))
    sent = await reminders(programme)
    assert len(sent) == MOST
    local_days = [asked.astimezone(zone(PERSON)).date()] + [
        r.created_at.astimezone(zone(PERSON)).date() for r in sent
    ]
    for before, after in itertools.pairwise(local_days):
        assert after == add_working_days(PERSON, before, AFTER)
