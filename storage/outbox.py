"""The outbox: messages written before they are sent, claimed atomically by whoever sends them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import OutboxMessage, OutboxStatus


async def insert_once(session: AsyncSession, model: type, values: dict[str, Any], unique: list[str]) -> bool:
    """Insert a row unless one with the same unique key exists; True when this call inserted it.

    ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) keeps two processes that race to
    write the same row from failing or writing it twice.
    """
    statement = _insert_unless_there(session, model, unique).values(**values)
    result = await session.exec(statement)
    return bool(result.rowcount)


def _insert_unless_there(session: AsyncSession, model: type, unique: list[str]) -> Any:
    """INSERT … ON CONFLICT (unique) DO NOTHING in the session's dialect."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=unique)


def outbox_row(
    *,
    key: str,
    person_id: str | None,
    payload: dict[str, Any],
    now: datetime,
    conversation_id: int | None = None,
    question_id: int | None = None,
    not_before: datetime | None = None,
    about_person_id: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """A message to write to the outbox, pending from `not_before` (default: now)."""
    return {
        "key": key,
        "person_id": person_id,
        "payload": payload,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
        "conversation_id": conversation_id,
        "question_id": question_id,
        "about_person_id": about_person_id,
        "channel": channel,
    }


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    person_id: str | None,
    payload: dict[str, Any],
    now: datetime,
    conversation_id: int | None = None,
    question_id: int | None = None,
    not_before: datetime | None = None,
    about_person_id: str | None = None,
    channel: str | None = None,
) -> bool:
    """Write one message; True unless its key was written before."""
    return await write_once(
        session,
        outbox_row(
            key=key,
            person_id=person_id,
            payload=payload,
            now=now,
            conversation_id=conversation_id,
            question_id=question_id,
            not_before=not_before,
            about_person_id=about_person_id,
            channel=channel,
        ),
    )


async def write_once(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Write one `outbox_row`; True unless its key was written before."""
    return await insert_once(session, OutboxMessage, row, ["key"])


async def write_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write several `outbox_row`s in one statement, in their order (a person's messages are
    sent in the order of their ids); any whose key was written before is left as it is."""
    if not rows:
        return
    statement = _insert_unless_there(session, OutboxMessage, ["key"])
    # Core's executemany, not the ORM's bulk insert: nothing here needs the rows back.
    await (await session.connection()).execute(statement, rows)


def database_now(session: AsyncSession, minus: timedelta = timedelta(0)) -> Any:
    """The database's own clock (less `minus`), in UTC, as the tables keep times.

    Leases are measured by it, not by the caller's `now`: a `tick --at` of another hour (or a
    machine whose clock is off) would otherwise take a claim that is seconds old for an
    abandoned one and send its message a second time.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return func.now() - minus  # the columns are timestamptz: no time zone to convert
    # SQLAlchemy keeps SQLite times as text that sorts as it reads: "2027-03-31 04:15:00.000000".
    return func.strftime("%Y-%m-%d %H:%M:%f000", "now", f"-{minus.total_seconds():.0f} seconds")


def _claimable(session: AsyncSession, lease: timedelta) -> Any:
    """Pending, or claimed longer than `lease` ago by a sender that never finished (it crashed)."""
    return or_(
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        and_(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_at) < database_now(session, lease),
        ),
    )


async def claim_many(
    session: AsyncSession, message_ids: list[int], worker: str, lease: timedelta, now: datetime
) -> set[int]:
    """Take these messages for sending, in one statement; returns the ids this call now owns.
    The conditional UPDATE decides who owns each, so two senders never both send one; one given
    back meanwhile to wait for a retry is not taken before its time.

    On PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED first: a row another replica is
    claiming (or marking sent) at this moment is left to it at once, instead of this claim
    waiting for that transaction and then finding the row taken. A person's messages still go
    out in order: the caller sends only from the person's oldest unsettled message on
    (`earliest_unsettled`)."""
    if not message_ids:
        return set()
    ready = (
        col(OutboxMessage.id).in_(message_ids),
        _claimable(session, lease),
        or_(col(OutboxMessage.status) != OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now),
    )
    statement = update(OutboxMessage).where(*ready)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        free = select(OutboxMessage.id).where(*ready).with_for_update(skip_locked=True)
        statement = update(OutboxMessage).where(col(OutboxMessage.id).in_(free.scalar_subquery()))
    result = await session.exec(  # type: ignore[call-overload]
        statement.values(
            status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=database_now(session)
        ).returning(col(OutboxMessage.id))
    )
    return {row[0] for row in result.all()}


@dataclass(frozen=True)
class Unsettled:
    id: int
    in_flight: bool  # another sender has it in hand now
    waiting: bool  # given back to wait for its retry, not due yet


async def earliest_unsettled(
    session: AsyncSession, person_ids: set[str], mine: set[int], worker: str, now: datetime
) -> dict[str, Unsettled]:
    """Each person's oldest message not yet sent (or given up) that is not one of `mine`, for
    those who have one, in one statement. Neither in flight nor waiting, it is due and nobody
    has it: given back, or (on PostgreSQL, whose transactions do not see each other's) being
    claimed by another sender this moment."""
    if not person_ids:
        return {}
    unsettled = (
        col(OutboxMessage.person_id).in_(person_ids),
        col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        col(OutboxMessage.id).not_in(mine),
    )
    firsts = select(func.min(OutboxMessage.id)).where(*unsettled).group_by(col(OutboxMessage.person_id))
    rows = (
        await session.exec(
            select(
                OutboxMessage.id,
                OutboxMessage.person_id,
                OutboxMessage.claimed_by,
                OutboxMessage.not_before,
            ).where(col(OutboxMessage.id).in_(firsts))
        )
    ).all()
    found: dict[str, Unsettled] = {}
    # Of unsettled messages only those being sent have a claimant (an outcome clears it).
    for message_id, person_id, claimed_by, not_before in rows:
        if message_id is None or person_id is None:
            continue
        found[person_id] = Unsettled(
            message_id,
            in_flight=claimed_by is not None and claimed_by != worker,
            waiting=claimed_by is None and not_before is not None and not_before > now,
        )
    return found


async def release(session: AsyncSession, message_ids: list[int], worker: str) -> None:
    """Give claimed messages back unsent, to be sent after the person's earlier one (or by
    whoever drains next)."""
    if message_ids:
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.claimed_by) == worker)
            .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
        )


async def record_many(store: Store, worker: str, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    """Write how sending several claimed messages went, as one statement per shape of outcome
    (almost always one: "sent"), each row its own update. Only the claimant's writes count."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for message_id, values in outcomes:
        # Bound as "v_<column>": SQLAlchemy keeps a column's own name for its VALUES/SET clause.
        shapes.setdefault(tuple(sorted(values)), []).append(
            {"message_id": message_id, "worker": worker, **{f"v_{name}": value for name, value in values.items()}}
        )
    async with store.one_statement() as connection:
        for names, rows in shapes.items():
            await connection.execute(_outcome_statement(names), rows)


@functools.cache
def _outcome_statement(names: tuple[str, ...]) -> Any:
    # Built once per shape: at a fan-out, building it for each message cost more CPU than
    # running it.
    return (
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == bindparam("message_id"), col(OutboxMessage.claimed_by) == bindparam("worker"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


async def due(
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    person_id: str | None = None,
    limit: int = 100,
    after: int = 0,
) -> list[OutboxMessage]:
    """Messages ready to send, oldest first (from id `after` on, to page through them). A
    person's messages keep their order: while an older one waits for its retry, the newer ones
    wait behind it."""
    query = select(OutboxMessage).where(
        _claimable(session, lease),
        or_(col(OutboxMessage.status) != OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now),
    )
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    if after:
        query = query.where(col(OutboxMessage.id) > after)
    rows = list((await session.exec(query.order_by(col(OutboxMessage.id)).limit(limit))).all())
    waiting = (
        select(OutboxMessage.person_id, func.min(OutboxMessage.id))
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.not_before) > now,
            col(OutboxMessage.person_id).is_not(None),
        )
        .group_by(OutboxMessage.person_id)
    )
    first_waiting: dict[str | None, int] = dict((await session.exec(waiting)).all())  # type: ignore[arg-type]
    return [r for r in rows if r.person_id not in first_waiting or r.id < first_waiting[r.person_id]]  # type: ignore[operator]


async def supersede_held_questions(session: AsyncSession, person_id: str) -> int:
    """Questions still waiting to go to the person are dropped: after a pause the one that is
    current then is asked again instead of a burst of stale ones."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.person_id) == person_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.question_id).is_not(None),
        )
        .values(status=OutboxStatus.SUPERSEDED)
    )
    return int(result.rowcount or 0)


async def set_aside_unsent(session: AsyncSession, person_id: str) -> int:
    """Everything still waiting to go to someone who left the programme is set aside."""
    result = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.person_id) == person_id, col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SUPERSEDED)
    )
    return int(result.rowcount or 0)
