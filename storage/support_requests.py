"""Support requests: written when a person asks, marked handled by a coordinator."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CoordinatorPartnership, Person, SupportRequest


async def record_support(
    session: AsyncSession, person_id: str, text: str, conversation_id: int | None, now: datetime
) -> SupportRequest:
    """The request, flushed so that it has its number (the alerts quote it)."""
    request = SupportRequest(person_id=person_id, conversation_id=conversation_id, text=text, created_at=now)
    session.add(request)
    await session.flush()
    return request


async def open_requests_for(
    session: AsyncSession, coordinator_id: str
) -> list[tuple[SupportRequest, Person]]:
    """The unhandled requests of the people in the coordinator's partnerships, oldest first."""
    rows = await session.exec(
        select(SupportRequest, Person)
        .join(Person, col(Person.id) == SupportRequest.person_id)
        .join(CoordinatorPartnership, col(CoordinatorPartnership.partnership_id) == Person.partnership_id)
        .where(
            CoordinatorPartnership.person_id == coordinator_id,
            col(SupportRequest.handled_at).is_(None),
            Person.forgotten == False,  # noqa: E712
        )
        .order_by(col(SupportRequest.id))
    )
    return list(rows.all())
