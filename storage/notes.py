"""Notes: what a person wrote that answered no question, kept as theirs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Note


async def keep_note(session: AsyncSession, person_id: str, text: str, now: datetime, platform: str) -> Note:
    note = Note(person_id=person_id, text=text, written_at=now, platform=platform)
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, person_ids: list[str], since: datetime | None = None) -> list[Note]:
    """The notes of these people, oldest first (since `since`, when given)."""
    query = select(Note).where(col(Note.person_id).in_(person_ids))
    if since is not None:
        query = query.where(col(Note.written_at) >= since)
    return list((await session.exec(query.order_by(col(Note.written_at), col(Note.id)))).all())
