"""The inbox: what people send, stored in one insert before the platform is answered, then taken
one at a time, oldest first, by whoever works through it."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import ChatIdentity, InboundEvent, InboxStatus, Person

# A reply whose taking failed this many times is set aside as failed (kept, not lost) so that
# it stops holding up the replies behind it.
MAX_ATTEMPTS = 3


@functools.cache
def _keep_statement(dialect: str, by_identity: bool) -> Insert:
    """INSERT … SELECT: the reply is kept for whoever the platform's user id belongs to, in one
    statement, so that a platform's request costs one round trip; built once, then only its
    parameters change (SQLAlchemy's compiled cache does the rest)."""
    c = InboundEvent.__table__.c  # type: ignore[attr-defined]
    columns = ["platform", "event_id", "person_id", "payload", "status", "attempts", "received_at"]
    query = select(  # type: ignore[call-overload]
        bindparam("platform", type_=c.platform.type),
        bindparam("event_id", type_=c.event_id.type),
        Person.id,
        bindparam("payload", type_=c.payload.type),
        literal(InboxStatus.PENDING.value),
        literal(0),
        bindparam("received_at", type_=c.received_at.type),
    ).where(col(Person.forgotten) == False)  # noqa: E712
    if by_identity:
        query = query.join(ChatIdentity, col(ChatIdentity.person_id) == Person.id).where(
            col(ChatIdentity.platform) == bindparam("platform"),
            col(ChatIdentity.external_id) == bindparam("user_id"),
        )
    else:
        query = query.where(col(Person.id) == bindparam("user_id"))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(InboundEvent)
        .from_select(columns, query)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
    )


async def keep(
    store: Store,
    *,
    platform: str,
    user_id: str,
    event_id: str,
    payload: dict[str, Any],
    now: datetime,
    by_identity: bool = True,
) -> bool:
    """Keep one reply for the person `user_id` is on `platform` (or, without `by_identity`, the
    person with that id). False when nothing was kept: the user is nobody we know, or the
    platform sent this event before (a retry)."""
    statement = _keep_statement(store.engine.dialect.name, by_identity)
    params = {
        "platform": platform,
        "event_id": event_id,
        "user_id": user_id,
        "payload": payload,
        "received_at": now,
    }
    async with store.one_statement() as connection:
        result = await connection.execute(statement, params)
    return bool(result.rowcount)


async def oldest_waiting(session: AsyncSession) -> InboundEvent | None:
    query = (
        select(InboundEvent)
        .where(InboundEvent.status == InboxStatus.PENDING)
        .order_by(col(InboundEvent.id))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def mark_taken(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Claim the reply for this transaction. The conditional UPDATE's row count decides, so two
    processes never both take it; the words are dropped here because the answer now holds them."""
    result = await session.exec(
        update(InboundEvent)
        .where(col(InboundEvent.id) == row_id, col(InboundEvent.status) == InboxStatus.PENDING)
        .values(status=InboxStatus.DONE, payload=None, taken_at=now)
    )
    return bool(result.rowcount)


async def mark_failed(session: AsyncSession, row_id: int, error: str) -> InboxStatus | None:
    """Count a failed attempt; after MAX_ATTEMPTS the reply is set aside. Returns its status (None
    when the row is gone)."""
    row = await session.get(InboundEvent, row_id)
    if row is None or row.status != InboxStatus.PENDING:
        return row.status if row else None
    row.attempts += 1
    row.last_error = error
    if row.attempts >= MAX_ATTEMPTS:
        row.status = InboxStatus.FAILED
    session.add(row)
    return row.status


async def prune(store: Store, before: datetime) -> int:
    """Forget the ids of replies taken before `before`: platforms retry within minutes, not days."""
    async with store.one_statement() as connection:
        result = await connection.execute(
            delete(InboundEvent).where(
                col(InboundEvent.status) == InboxStatus.DONE, col(InboundEvent.received_at) < before
            )
        )
    return int(result.rowcount or 0)
