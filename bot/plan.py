"""Which conversations each person has, and when each falls due, from the programme in storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import WorkCalendar
from storage.models import Organisation, Panel, PanelPresenter, Person, Programme
from storage.programme_file import local_time


@dataclass(frozen=True)
class Planned:
    key: str
    flow: str
    due_at: datetime
    expires_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)


async def calendar_for(session: AsyncSession, person: Person) -> WorkCalendar:
    """The person's time zone, their host organisation's work week and country, the prompt time."""
    programme = await session.get(Programme, person.programme_id)
    assert programme is not None
    org_id = person.host_organisation_id or person.organisation_id
    org = await session.get(Organisation, org_id) if org_id else None
    return WorkCalendar(
        timezone=person.timezone or programme.timezone,
        workdays=tuple(org.workdays.split(",")) if org else ("mon", "tue", "wed", "thu", "fri"),
        country=org.country if org else None,
        prompt_time=local_time(programme.prompt_time),
    )


def midpoint_date(start: date, end: date) -> date:
    return start + (end - start) / 2


async def plan_for(session: AsyncSession, person: Person) -> list[Planned]:
    """A participant's conversations in the order they fall due (nothing for other roles)."""
    if person.role != "participant" or person.forgotten or not person.start or not person.end:
        return []
    cal = await calendar_for(session, person)
    final_due = cal.first_prompt_on_or_after(person.end - timedelta(days=6))
    plans = [
        Planned(f"welcome:{person.id}", "welcome", cal.first_prompt_on_or_after(person.start)),
        Planned(
            f"midpoint:{person.id}",
            "midpoint",
            cal.first_prompt_on_or_after(midpoint_date(person.start, person.end)),
            expires_at=final_due,
        ),
    ]
    panels = await session.exec(
        select(Panel)
        .join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
        .where(PanelPresenter.person_id == person.id)
    )
    for panel in panels.all():
        at = panel.at.astimezone(UTC)
        prep_day = cal.local_date(at - timedelta(days=panel.prep_days_before))
        plans.append(
            Planned(
                f"panel-prep:{panel.id}:{person.id}",
                "panel-prep",
                min(cal.first_prompt_on_or_after(prep_day), at),
                expires_at=at,
                context={"panel_id": panel.id},
            )
        )
    plans.append(Planned(f"final:{person.id}", "final", final_due))
    return sorted(plans, key=lambda p: p.due_at)
