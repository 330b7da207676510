"""Which conversations each person has, and when each falls due, from the programme in storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import WorkCalendar
from storage.models import Organisation, Panel, PanelPresenter, Person, Programme
from storage.programme_file import local_time
from storage.retention import add_months

# The welcome is for the first days of an exchange, not for someone imported months later; the
# final reflection is for the weeks around its end, not for someone long home.
WELCOME_WITHIN = timedelta(days=7)
FINAL_WITHIN = timedelta(days=28)
# A follow-up after return starts within four weeks of falling due, and is over when the next one
# falls due (the last one, three months after it).
FOLLOW_UP_WITHIN = timedelta(days=28)
LAST_FOLLOW_UP_OPEN = timedelta(days=91)


@dataclass(frozen=True)
class Planned:
    key: str
    flow: str
    due_at: datetime
    expires_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)
    # The last moment it may still start (a welcome in the first days of the exchange, the
    # final reflection in the weeks after it); once started, `expires_at` alone ends it.
    starts_until: datetime | None = None

    def can_start(self, now: datetime) -> bool:
        """Whether it can still start at or after `now`."""
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.starts_until is None or now <= self.starts_until


@dataclass
class Directory:
    """The programme data that calendars and plans are computed from, loaded once per sweep."""

    programmes: dict[str, Programme]
    organisations: dict[str, Organisation]
    panels: dict[str, list[Panel]]  # by presenter

    @classmethod
    async def load(cls, session: AsyncSession, person_id: str | None = None) -> Directory:
        panels: dict[str, list[Panel]] = {}
        query = select(Panel, PanelPresenter.person_id).join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
        if person_id is not None:
            query = query.where(PanelPresenter.person_id == person_id)
        for panel, presenter in (await session.exec(query)).all():
            panels.setdefault(presenter, []).append(panel)
        return cls(
            programmes={p.id: p for p in (await session.exec(select(Programme))).all()},
            organisations={o.id: o for o in (await session.exec(select(Organisation))).all()},
            panels=panels,
        )

    def calendar(self, person: Person, now: datetime | None = None) -> WorkCalendar:
        """The person's calendar: their host organisation's during the exchange; with `now` after
        it has ended, their home organisation's (they are back at work there)."""
        programme = self.programmes[person.programme_id]
        if now is not None and is_home(person, programme, now):
            return self.home_calendar(person)
        org_id = person.host_organisation_id or person.organisation_id
        return calendar_of(person, programme, self.organisations.get(org_id) if org_id else None)

    def home_calendar(self, person: Person) -> WorkCalendar:
        org_id = person.home_organisation_id or person.organisation_id
        return calendar_of(
            person, self.programmes[person.programme_id], self.organisations.get(org_id) if org_id else None
        )

    def plan(self, person: Person) -> list[Planned]:
        """A participant's conversations in the order they fall due (nothing for other roles)."""
        if person.role != "participant" or not person.in_programme or not person.start or not person.end:
            return []
        cal = self.calendar(person)
        final_due = cal.first_prompt_on_or_after(final_date(person.end))
        welcome_due = cal.first_prompt_on_or_after(person.start)
        midpoint_due = cal.first_prompt_on_or_after(midpoint_date(person.start, person.end))
        plans = [
            # Its ratings are the baseline: once the midpoint asks them again, they no longer are.
            Planned(
                f"welcome:{person.id}", "welcome", welcome_due,
                expires_at=max(midpoint_due, welcome_due + WELCOME_WITHIN),
                starts_until=welcome_due + WELCOME_WITHIN,
            ),
            Planned(f"midpoint:{person.id}", "midpoint", midpoint_due, expires_at=final_due),
        ]
        for panel in self.panels.get(person.id, []):
            at = panel.at.astimezone(UTC)
            prep_day = cal.local_date(at - timedelta(days=panel.prep_days_before))
            plans.append(
                Planned(
                    f"panel-prep:{panel.id}:{person.id}", "panel-prep",
                    min(cal.first_prompt_on_or_after(prep_day), at), expires_at=at,
                    context={"panel_id": panel.id},
                )
            )
        plans.append(
            Planned(
                f"final:{person.id}",
                "final",
                final_due,
                starts_until=cal.prompt_at(person.end + FINAL_WITHIN),
            )
        )
        plans.extend(self._follow_ups(person))
        return sorted(plans, key=lambda p: p.due_at)

    def _follow_ups(self, person: Person) -> list[Planned]:
        """After return, at the programme's months after the end, on the home organisation's
        working days; none once what the person wrote is deleted (retention) by then."""
        assert person.end is not None
        programme = self.programmes[person.programme_id]
        home = self.home_calendar(person)
        months = [m for m in follow_up_months(programme) if not programme.retention_months or m < programme.retention_months]
        dues = [home.first_prompt_on_or_after(add_months(person.end, m)) for m in months]
        return [
            Planned(
                f"follow-up:{m}:{person.id}",
                "follow-up",
                due,
                expires_at=dues[i + 1] if i + 1 < len(dues) else due + LAST_FOLLOW_UP_OPEN,
                starts_until=due + FOLLOW_UP_WITHIN,
                context={"months": m},
            )
            for i, (m, due) in enumerate(zip(months, dues, strict=True))
        ]


def follow_up_months(programme: Programme) -> list[int]:
    return sorted(int(m) for m in programme.follow_up_months.split(",") if m.strip())


def is_home(person: Person, programme: Programme, now: datetime) -> bool:
    """Whether the person's exchange is over as of `now`, in their own time zone."""
    if person.end is None:
        return False
    return now.astimezone(ZoneInfo(person.timezone or programme.timezone)).date() > person.end


def midpoint_date(start: date, end: date) -> date:
    return start + (end - start) / 2


def final_date(end: date) -> date:
    """From when the final reflection is asked (on the first working day from then)."""
    return end - timedelta(days=6)


def calendar_of(person: Person, programme: Programme, org: Organisation | None) -> WorkCalendar:
    """The person's time zone, their host organisation's work week and country, the prompt time."""
    return WorkCalendar(
        timezone=person.timezone or programme.timezone,
        workdays=tuple(org.workdays.split(",")) if org else ("mon", "tue", "wed", "thu", "fri"),
        country=org.country if org else None,
        prompt_time=local_time(programme.prompt_time),
    )


async def calendar_for(session: AsyncSession, person: Person, now: datetime | None = None) -> WorkCalendar:
    """As `Directory.calendar`: with `now` after the exchange, the home organisation's."""
    # session.get answers from the session's identity map when the rows are already loaded.
    programme = await session.get(Programme, person.programme_id)
    assert programme is not None
    org_id = person.host_organisation_id or person.organisation_id
    if now is not None and is_home(person, programme, now):
        org_id = person.home_organisation_id or person.organisation_id
    org = await session.get(Organisation, org_id) if org_id else None
    return calendar_of(person, programme, org)


async def plan_for(session: AsyncSession, person: Person) -> list[Planned]:
    return (await Directory.load(session, person.id)).plan(person)
