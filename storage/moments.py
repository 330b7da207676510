"""Aha moments, takeaways and discussion questions kept for a panel, with their consent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AhaMoment, Panel, PanelPresenter


async def moment_of_question(session: AsyncSession, question_id: int) -> AhaMoment | None:
    return (await session.exec(select(AhaMoment).where(AhaMoment.question_id == question_id))).first()


async def moments_of(session: AsyncSession, person_id: str) -> list[AhaMoment]:
    """The person's moments in the order they were kept: `consent N` numbers them so."""
    rows = await session.exec(
        select(AhaMoment).where(AhaMoment.person_id == person_id).order_by(col(AhaMoment.id))
    )
    return list(rows.all())


async def count_moments(session: AsyncSession, person_id: str) -> int:
    query = select(func.count()).select_from(AhaMoment).where(AhaMoment.person_id == person_id)
    return int((await session.exec(query)).one())


async def next_panel_of(session: AsyncSession, person_id: str, now: datetime) -> str | None:
    """The id of the next panel the person presents at, after `now`."""
    rows = await session.exec(
        select(Panel.id)
        .join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
        .where(PanelPresenter.person_id == person_id, col(Panel.at) > now)
        .order_by(col(Panel.at))
    )
    return rows.first()


# The panel pack goes to its audience the day before the panel (`scheduler.sweeps`).
PACK_LEAD = timedelta(days=1)


async def next_open_panel(session: AsyncSession, programme_id: str, now: datetime) -> str | None:
    """The programme's next panel whose pack has not gone out yet: what someone back home
    shares after a follow-up is kept for it, whoever presents there."""
    rows = await session.exec(
        select(Panel.id)
        .where(Panel.programme_id == programme_id, col(Panel.at) > now + PACK_LEAD)
        .order_by(col(Panel.at), col(Panel.id))
    )
    return rows.first()
