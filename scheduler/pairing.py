"""Pairing's part of every sweep: make the round that is due (once, whichever process gets
there first), introduce each member at their prompt time on a working day from the round's first
day, invite those not asked yet (`ask: opt-in`), and start each member's check-in some working
days after their introduction. Every write has a unique key, so a sweep run twice, or by two
processes at once, writes each thing once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import WorkCalendar
from bot.engine import Engine
from bot.introductions import introduce, invite
from bot.pairing_rounds import Pool, RoundTime, make_round, next_round, round_day, round_on
from bot.plan import Planned
from storage.models import Person
from storage.moments import next_panel_of
from storage.pairing_tables import PairingSettings
from storage.pairs import (
    all_settings,
    conversation_keys,
    groups_of,
    paired_before,
    round_by_number,
    written_keys,
)

logger = logging.getLogger(__name__)

InWindow = Callable[[WorkCalendar, datetime], bool]
Paused = Callable[[Person, WorkCalendar, datetime], bool]


@dataclass
class PairingReport:
    rounds: int = 0
    introductions: int = 0
    invitations: int = 0
    check_ins: int = 0


class PairingSweep:
    def __init__(self, engine: Engine, in_window: InWindow, paused: Paused) -> None:
        self.engine, self.store = engine, engine.store
        self.in_window, self.paused = in_window, paused

    async def run(self, now: datetime) -> PairingReport:
        report = PairingReport()
        async with self.store.reading() as session:
            settings = await all_settings(session)
        for one in settings:
            await self._programme(one, now, report)
        return report

    async def _programme(self, settings: PairingSettings, now: datetime, report: PairingReport) -> None:
        async with self.store.reading() as session:
            pool = await Pool.load(session, settings)
        today = now.astimezone(ZoneInfo(pool.programme.timezone)).date()
        current = round_on(settings, today)
        if current is not None:
            async with self.store.session() as session:
                if await make_round(session, settings, current, now) is not None:
                    report.rounds += 1
            async with self.store.reading() as session:
                pool = await Pool.load(session, settings)
        if settings.ask == "opt-in":
            await self._invite(pool, today, now, report)
        if current is not None:
            await self._introduce_and_check(pool, current, now, report)

    async def _invite(self, pool: Pool, today: date, now: datetime, report: PairingReport) -> None:
        settings = pool.settings
        if today < settings.starts - timedelta(days=settings.every_days):
            return
        upcoming = next_round(settings, today)
        days = [d for d in (today if today >= settings.starts else None, upcoming.day if upcoming else None) if d]
        if not days:
            return
        async with self.store.reading() as session:
            invited = await written_keys(session, "pairing-invite:")
        for person in pool.people.values():
            if pool.decided(person.id) or f"pairing-invite:{person.id}" in invited:
                continue
            day = next((d for d in days if pool.place(person, d) is not None), None)
            if day is None:
                continue
            cal = pool.calendar(person, day)
            if self.paused(person, cal, now) or not self.in_window(cal, now):
                continue
            async with self.store.session() as session:
                if await invite(session, self.engine.translator, pool, person, now):
                    report.invitations += 1

    async def _introduce_and_check(self, pool: Pool, current: RoundTime, now: datetime, report: PairingReport) -> None:
        settings = pool.settings
        async with self.store.reading() as session:
            stored = await round_by_number(session, settings.programme_id, current.number)
            if stored is None or stored.id is None:
                return
            groups = (await groups_of(session, [stored.id]))[stored.id]
            introduced = await written_keys(session, f"pair-intro:{stored.id}:")
            before = await paired_before(session, settings.programme_id, current.number)
            started = await conversation_keys(session, "pairing-check:")
        ends = datetime.combine(
            min(round_day(settings, current.number + 1), settings.ends + timedelta(days=1)),
            time(0),
            tzinfo=ZoneInfo(pool.programme.timezone),
        ).astimezone(UTC)
        for group in groups:
            due_now = []
            for member in group.members:
                person = pool.people.get(member)
                if person is None:
                    continue
                cal = pool.calendar(person, current.day)
                if cal.local_date(now) < current.day or self.paused(person, cal, now) or not self.in_window(cal, now):
                    continue
                if f"pair-intro:{stored.id}:{group.pair.id}:{member}" not in introduced:
                    due_now.append(member)
            if due_now:
                # A group's introductions in one transaction: Slack's group DM is posted by one
                # of them, so they are best written together.
                async with self.store.session() as session:
                    for member in due_now:
                        if await introduce(session, self.engine.translator, pool, stored, group, member, now, before):
                            report.introductions += 1
            for member in group.members:
                person = pool.people.get(member)
                if person is None or member in due_now:
                    continue
                cal = pool.calendar(person, current.day)
                if self.paused(person, cal, now) or not self.in_window(cal, now):
                    continue
                if f"pair-intro:{stored.id}:{group.pair.id}:{member}" not in introduced:
                    continue
                check_key = f"pairing-check:{group.pair.id}:{member}"
                due = cal.add_working_days(cal.first_prompt_on_or_after(current.day), settings.check_back_after_days)
                if check_key in started or not due <= now < ends:
                    continue
                others = [pool.people[m].name for m in group.members if m != member and m in pool.people]
                panel_id = None
                async with self.store.reading() as session:
                    for m in group.members:
                        if m in pool.people and pool.people[m].role == "participant":
                            panel_id = panel_id or await next_panel_of(session, m, now)
                planned = Planned(
                    check_key,
                    "pairing-check",
                    due,
                    expires_at=ends,
                    context={"pair_id": group.pair.id, "pair": ", ".join(others), "panel_id": panel_id},
                )
                if await self.engine.start(member, planned, now) is not None:
                    report.check_ins += 1
