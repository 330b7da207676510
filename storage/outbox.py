"""The outbox: messages written before they are sent, claimed atomically by whoever sends them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxStatus


async def insert_once(session: AsyncSession, model: type, values: dict[str, Any], unique: list[str]) -> bool:
    """Insert a row unless one with the same unique key exists; True when this call inserted it.

    ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) keeps two processes that race to
    write the same row from failing or writing it twice.
    """
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
    result = await session.exec(statement)
    return bool(result.rowcount)


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
    return await insert_once(
        session,
        OutboxMessage,
        {
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
        },
        ["key"],
    )


async def claim(session: AsyncSession, message_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """Take one message for sending. The conditional UPDATE's row count decides who owns it,
    so two senders never both send it; a claim older than `lease` (a crashed sender) expires."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            or_(
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                and_(
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_at) < now - lease,
                ),
            ),
        )
        .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=now)
    )
    return bool(result.rowcount)


async def due(
    session: AsyncSession, now: datetime, lease: timedelta, person_id: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Messages ready to send, oldest first. A person's messages keep their order: while an older
    one waits for its retry, the newer ones wait behind it."""
    query = select(OutboxMessage).where(
        or_(
            and_(col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.not_before) <= now),
            and_(col(OutboxMessage.status) == OutboxStatus.SENDING, col(OutboxMessage.claimed_at) < now - lease),
        )
    )
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
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
