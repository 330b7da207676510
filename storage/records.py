"""The learning record's choices and approval, read and written over the caller's session."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.record_tables import RecordApproval, RecordChoice

ItemKey = tuple[str, int]  # (kind, id)


async def choices_of(session: AsyncSession, person_id: str) -> dict[ItemKey, bool]:
    """What the person chose for each item they changed; an item not named here is included."""
    rows = await session.exec(select(RecordChoice).where(RecordChoice.person_id == person_id))
    return {(r.item_kind, r.item_id): r.included for r in rows.all()}


async def set_choices(
    session: AsyncSession, person_id: str, items: Iterable[ItemKey], included: bool, now: datetime
) -> int:
    """Include or leave out these items; returns how many changed. A change after an approval
    makes the record a draft again."""
    current = await choices_of(session, person_id)
    changed = 0
    for kind, item_id in items:
        if current.get((kind, item_id), True) == included:
            continue
        row = await session.get(RecordChoice, (person_id, kind, item_id))
        if row is None:
            row = RecordChoice(person_id=person_id, item_kind=kind, item_id=item_id, changed_at=now)
        row.included, row.changed_at = included, now
        session.add(row)
        changed += 1
    if changed:
        approval = await session.get(RecordApproval, person_id)
        if approval is not None and approval.invalidated_at is None:
            approval.invalidated_at = now
            session.add(approval)
    return changed


async def approval_of(session: AsyncSession, person_id: str) -> RecordApproval | None:
    """The approval that holds now (None for a draft: never approved, or changed since)."""
    approval = await session.get(RecordApproval, person_id)
    return approval if approval is not None and approval.invalidated_at is None else None


async def any_approval(session: AsyncSession, person_id: str) -> RecordApproval | None:
    """The approval row, whether it still holds or not (for the person's export)."""
    return await session.get(RecordApproval, person_id)


async def approve(session: AsyncSession, person_id: str, coordinator_id: str, now: datetime) -> RecordApproval:
    approval = await session.get(RecordApproval, person_id)
    if approval is None:
        approval = RecordApproval(person_id=person_id, approved_by=coordinator_id, approved_at=now)
    approval.approved_by, approval.approved_at, approval.invalidated_at = coordinator_id, now, None
    session.add(approval)
    return approval


async def all_choices(session: AsyncSession, person_id: str) -> list[RecordChoice]:
    rows = await session.exec(
        select(RecordChoice)
        .where(RecordChoice.person_id == person_id)
        .order_by(col(RecordChoice.item_kind), col(RecordChoice.item_id))
    )
    return list(rows.all())


async def forget_record(session: AsyncSession, person_id: str) -> dict[str, int]:
    """Delete the person's choices and approval; how many of each."""
    counts = {}
    for name, statement in (
        ("record_choices", delete(RecordChoice).where(col(RecordChoice.person_id) == person_id)),
        ("record_approval", delete(RecordApproval).where(col(RecordApproval.person_id) == person_id)),
    ):
        result = await session.exec(statement)  # type: ignore[call-overload]
        counts[name] = result.rowcount or 0
    return counts
