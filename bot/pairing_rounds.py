"""Pairing rounds from storage: when each round is, who takes part in it, and making it once.

A round's first day is `from` plus a whole number of periods (`every`), until `until`. Who takes
part is decided when the round is made: participants on exchange (with colleagues of their host)
or back home for up to `returned_within_days` (with colleagues of their home), as `who` says,
and colleagues; not those who opted out or have not opted in (`ask: opt-in`), not those paused
(pairing's own pause or the general one), not the forgotten. They are told nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import WorkCalendar
from bot.pairing import Candidate, Group, Side, make_groups, week_hours
from bot.plan import calendar_of
from storage.models import LearningGoal, Organisation, Person, Programme
from storage.pairing_tables import PairingChoice, PairingSettings
from storage.pairs import StoredGroup, add_group, choices, claim_round, goals_by_person, met_before

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoundTime:
    number: int
    day: date


def round_on(settings: PairingSettings, today: date) -> RoundTime | None:
    """The round running on `today` (the latest that began), or None before the first or after
    the last."""
    if today < settings.starts:
        return None
    number = (today - settings.starts).days // settings.every_days
    day = settings.starts + timedelta(days=number * settings.every_days)
    return RoundTime(number, day) if day <= settings.ends else None


def next_round(settings: PairingSettings, today: date) -> RoundTime | None:
    """The first round that begins after `today`."""
    current = round_on(settings, today)
    number = 0 if today < settings.starts else (current.number + 1 if current else -1)
    if number < 0:
        return None
    day = settings.starts + timedelta(days=number * settings.every_days)
    return RoundTime(number, day) if day <= settings.ends else None


def round_day(settings: PairingSettings, number: int) -> date:
    return settings.starts + timedelta(days=number * settings.every_days)


@dataclass
class Pool:
    """The people of one programme as pairing sees them, read once."""

    programme: Programme
    settings: PairingSettings
    people: dict[str, Person]
    organisations: dict[str, Organisation]
    goals: dict[str, set[str]]
    choices: dict[str, PairingChoice]
    goal_order: dict[str, int]
    goal_texts: dict[str, str]

    @classmethod
    async def load(cls, session: AsyncSession, settings: PairingSettings) -> Pool:
        programme = await session.get(Programme, settings.programme_id)
        assert programme is not None
        people = (
            await session.exec(
                select(Person).where(
                    Person.programme_id == settings.programme_id,
                    Person.forgotten == False,  # noqa: E712
                    col(Person.left_at).is_(None),  # left the programme: paired no more
                )
            )
        ).all()
        goals = (await session.exec(select(LearningGoal))).all()
        ordered = sorted(goals, key=lambda g: (g.partnership_id, g.position, g.id))
        return cls(
            programme=programme,
            settings=settings,
            people={p.id: p for p in people},
            organisations={o.id: o for o in (await session.exec(select(Organisation))).all()},
            goals=await goals_by_person(session),
            choices=await choices(session),
            goal_order={g.id: i for i, g in enumerate(ordered)},
            goal_texts={g.id: g.text for g in goals},
        )

    def place(self, person: Person, day: date) -> tuple[Side, str] | None:
        """Which side of a pair the person is on that day, and in which organisation; None when
        the programme does not pair them then (exchange not begun, or ended long ago)."""
        s = self.settings
        if person.role == "colleague" and person.organisation_id:
            return "colleague", person.organisation_id
        if person.role != "participant" or not person.start or not person.end:
            return None
        if person.start <= day <= person.end and s.who in ("on-exchange", "both") and person.host_organisation_id:
            return "exchange", person.host_organisation_id
        returned = person.end < day <= person.end + timedelta(days=s.returned_within_days)
        if returned and s.who in ("returned", "both") and person.home_organisation_id:
            return "exchange", person.home_organisation_id
        return None

    def decided(self, person_id: str) -> bool:
        return person_id in self.choices

    def takes_part(self, person: Person, day: date) -> bool:
        """Whether they are in, and not paused, on that day (left out silently otherwise)."""
        choice = self.choices.get(person.id)
        if choice is None:
            if self.settings.ask == "opt-in":
                return False
        elif choice.choice != "in" or (choice.paused_until is not None and day < choice.paused_until):
            return False
        if person.paused and (person.paused_until is None or day < person.paused_until):
            return False
        return self.place(person, day) is not None

    def calendar(self, person: Person, day: date) -> WorkCalendar:
        """Their calendar where they are paired: their time zone, the work week of that
        organisation (the home one, once back)."""
        place = self.place(person, day)
        org = self.organisations.get(place[1]) if place else None
        return calendar_of(person, self.programme, org)

    def candidates(self, day: date) -> list[Candidate]:
        found = []
        for person in self.people.values():
            place = self.place(person, day)
            if place is None or not self.takes_part(person, day):
                continue
            side, org_id = place
            org = self.organisations.get(org_id)
            workdays = org.workdays.split(",") if org else ["mon", "tue", "wed", "thu", "fri"]
            zone = person.timezone or self.programme.timezone
            found.append(
                Candidate(
                    person.id, side, org_id, frozenset(self.goals.get(person.id, ())), week_hours(zone, workdays, day)
                )
            )
        return found


async def plan_round(
    session: AsyncSession, settings: PairingSettings, when: RoundTime
) -> tuple[Pool, list[Group], list[str]]:
    """The groups the round would have (nothing stored), and who could not be paired."""
    pool = await Pool.load(session, settings)
    met = await met_before(session, settings.programme_id, when.number)
    groups, unpaired = make_groups(pool.candidates(when.day), met, pool.goal_order)
    return pool, groups, unpaired


async def make_round(
    session: AsyncSession, settings: PairingSettings, when: RoundTime, now: datetime
) -> list[StoredGroup] | None:
    """Make and store the round, once: None when it was made already (by another process)."""
    stored_round = await claim_round(session, settings.programme_id, when.number, when.day, now)
    if stored_round is None or stored_round.id is None:
        return None
    _pool, groups, unpaired = await plan_round(session, settings, when)
    stored = []
    for position, group in enumerate(groups):
        pair = await add_group(
            session,
            stored_round.id,
            position,
            group.members,
            group.organisation_id,
            group.goal_id,
            group.reason,
            group.overlap_hours,
        )
        stored.append(StoredGroup(pair, group.members))
    logger.info(
        "pairing round %s of %s made: %d groups, %d people without a pair",
        when.number,
        settings.programme_id,
        len(stored),
        len(unpaired),
    )
    return stored
