"""Who someone is: found by their chat identity, with their learning goals and coordinators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ChatIdentity, CoordinatorPartnership, LearningGoal, Person, PersonGoal


async def find_person(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    """The person behind a platform's user id (on the console, the person id itself); never a
    forgotten one."""
    if platform == "console":
        person = await session.get(Person, user_id)
    else:
        person = (
            await session.exec(
                select(Person)
                .join(ChatIdentity, col(ChatIdentity.person_id) == Person.id)
                .where(ChatIdentity.platform == platform, ChatIdentity.external_id == user_id)
            )
        ).first()
    return None if person is None or person.forgotten else person


async def person_for_update(session: AsyncSession, person_id: str | None) -> Person | None:
    """The person, locked for this transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds
    the database), so that another process changing their conversations waits for this one.

    Every transaction that changes a person's conversations takes this first and reads their
    conversations only after it: PostgreSQL's READ COMMITTED does not serialise a read and the
    write that follows it, so two processes reading the same open conversation would both move it
    on (two different questions asked at once, a day skipped). The row is read afresh even if
    this session loaded it before the lock."""
    if person_id is None:
        return None
    query = (
        select(Person)
        .where(Person.id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def people_for_update(session: AsyncSession, person_ids: list[str]) -> dict[str, Person]:
    """As `person_for_update`, for several people in one statement. They are locked in the order
    of their ids, as every caller that holds more than one lock takes them, so two processes
    locking overlapping sets wait for each other instead of deadlocking."""
    query = (
        select(Person)
        .where(col(Person.id).in_(person_ids))
        .order_by(col(Person.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {p.id: p for p in (await session.exec(query)).all()}


async def lock_programme_people(session: AsyncSession, programme_id: str) -> None:
    """Lock every person of a programme, in the order of their ids, before a write that touches
    many of them (an import): taken in any other order, the locks would deadlock against a sweep
    starting a batch of the same people."""
    await _lock_in_id_order(session, col(Person.programme_id) == programme_id)


async def remember_next_due(session: AsyncSession, due: list[tuple[str, int, datetime | None]]) -> None:
    """Write when each (person id, plan version) falls due next, unless an import changed the
    programme since that version (then the next sweep computes it again).

    The rows are locked first, in the order of their ids: an UPDATE per row in the list's order
    would lock them in that order, and another process locking an overlapping set in id order
    (a batch of starts) would deadlock with it."""
    await _lock_in_id_order(session, col(Person.id).in_([p for p, _, _ in due]))
    statement = (
        update(Person)
        .where(col(Person.id) == bindparam("person"), col(Person.plan_version) == bindparam("version"))
        .values(next_due_at=bindparam("at"), planned_version=bindparam("version"))
    )
    # Core's executemany: one statement for everyone.
    await (await session.connection()).execute(
        statement, [{"person": p, "version": version, "at": at} for p, version, at in due]
    )


async def _lock_in_id_order(session: AsyncSession, which: Any) -> None:
    # The order every caller that holds more than one person's lock takes them in.
    await session.exec(select(Person.id).where(which).order_by(col(Person.id)).with_for_update())


async def goals_of(session: AsyncSession, person_id: str) -> list[LearningGoal]:
    return (await goals_of_many(session, [person_id]))[person_id]


async def goals_of_many(session: AsyncSession, person_ids: list[str]) -> dict[str, list[LearningGoal]]:
    """Each person's learning goals in their order, in one read."""
    found: dict[str, list[LearningGoal]] = {p: [] for p in person_ids}
    rows = await session.exec(
        select(PersonGoal.person_id, LearningGoal)
        .join(PersonGoal, col(PersonGoal.goal_id) == LearningGoal.id)
        .where(col(PersonGoal.person_id).in_(person_ids))
        .order_by(col(PersonGoal.person_id), col(PersonGoal.position))
    )
    for person_id, goal in rows.all():
        found[person_id].append(goal)
    return found


async def coordinators_of(session: AsyncSession, person: Person) -> list[Person]:
    if not person.partnership_id:
        return []
    return (await coordinators_of_many(session, [person.partnership_id]))[person.partnership_id]


async def coordinators_of_many(session: AsyncSession, partnership_ids: list[str]) -> dict[str, list[Person]]:
    """The coordinators of each partnership (not forgotten ones), by id, in one read."""
    found: dict[str, list[Person]] = {p: [] for p in partnership_ids}
    rows = await session.exec(
        select(CoordinatorPartnership.partnership_id, Person)
        .join(CoordinatorPartnership, col(CoordinatorPartnership.person_id) == Person.id)
        .where(col(CoordinatorPartnership.partnership_id).in_(partnership_ids), Person.forgotten == False)  # noqa: E712
        .order_by(col(Person.id))
    )
    for partnership_id, coordinator in rows.all():
        found[partnership_id].append(coordinator)
    return found


async def coordinates(session: AsyncSession, coordinator: Person, partnership_id: str | None) -> bool:
    """Whether `coordinator` is a coordinator of that partnership."""
    if coordinator.role != "coordinator" or not partnership_id:
        return False
    return await session.get(CoordinatorPartnership, (coordinator.id, partnership_id)) is not None
