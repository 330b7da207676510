"""The sweeps: what is due is computed from storage, so a sweep missed while the process was down
is caught up by the next one, and a sweep run twice does nothing twice (every conversation and
outbox row has a unique key, claimed atomically)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.calendar import WorkCalendar
from bot.conversation import begin_next, repeat_current
from bot.delivery import Deliverer, DrainResult
from bot.engine import Engine
from bot.plan import Directory, Planned
from bot.prompts import remind
from bot.reports.digest import digest_message
from bot.reports.panel_pack import panel_pack_messages
from bot.turn import Turn
from bot.web_links import WebLinks
from scheduler.pairing import PairingReport, PairingSweep
from storage import inbox, pacing
from storage.answer_keys import fill_answer_keys
from storage.models import (
    Conversation,
    ConversationStatus,
    OutboxMessage,
    Panel,
    Person,
    Question,
    QuestionStatus,
)
from storage.outbox import enqueue
from storage.people import person_for_update, remember_next_due
from storage.programme_file import local_time
from storage.retention import apply_retention

logger = logging.getLogger(__name__)

# A conversation or a day's questions start from prompt_time until this much later on a
# working day; a sweep missed in that window (process down) catches up in the next one rather
# than waking someone at night.
PROMPT_WINDOW = timedelta(hours=10)
# How long a taken reply's event id is remembered; platforms retry within minutes.
INBOX_KEEPS = timedelta(days=7)
# Conversations that can still expire or go on.
LIVE = (ConversationStatus.PENDING, ConversationStatus.OPEN, ConversationStatus.WAITING)
# Next-due times written per transaction: few statements, short lock holds, and well under
# PostgreSQL's 32,767 bound parameters for the lock's id list.
_NEXT_DUE_CHUNK = 1000


@dataclass
class SweepReport:
    replies: int = 0
    started: int = 0
    groups_opened: int = 0
    reminders: int = 0
    expired: int = 0
    resumed: int = 0
    digests: int = 0
    panel_packs: int = 0
    retention: int = 0  # people whose words were deleted, their exchange long over
    drained: DrainResult = field(default_factory=DrainResult)
    pairing: PairingReport = field(default_factory=PairingReport)


def in_prompt_window(cal: WorkCalendar, now: datetime) -> bool:
    day = cal.local_date(now)
    if not cal.is_working_day(day):
        return False
    opens = cal.prompt_at(day)
    return opens <= now < opens + PROMPT_WINDOW


def _paused(person: Person, cal: WorkCalendar, now: datetime) -> bool:
    if not person.paused:
        return False
    return person.paused_until is None or cal.local_date(now) < person.paused_until


@dataclass
class Snapshot:
    """What the sweeps look at, read in one transaction; each sweep writes only when it acts."""

    directory: Directory
    people: dict[str, Person]
    keys: set[str]
    expiring: list[int]
    due_groups: list[tuple[int, str]]
    awaiting: list[tuple[Question, Conversation]]
    panels_soon: list[str]
    # The last reminder written to each person, whichever question it was about.
    last_reminded: dict[str, datetime] = field(default_factory=dict)
    # People with conversations waiting on their agenda and none being asked.
    idle: set[str] = field(default_factory=set)
    # Participants whose next conversation is due, or whose plan is not computed yet.
    due: list[Person] = field(default_factory=list)

    @classmethod
    async def load(cls, session: AsyncSession, now: datetime) -> Snapshot:
        """What is due now, read by indexed queries: a quiet sweep costs what is due, not what
        exists (see `Person.next_due_at`)."""
        # Read before the directory: a plan computed from a directory newer than the version
        # read here is computed again by the next sweep, never left later than it should be.
        due_now = (
            Person.role == "participant",
            Person.forgotten == False,  # noqa: E712
            col(Person.left_at).is_(None),
            or_(col(Person.planned_version) != col(Person.plan_version), col(Person.next_due_at) <= now),
        )
        due = (await session.exec(select(Person).where(*due_now))).all()
        keys = (
            await session.exec(
                select(Conversation.key)
                .join(Person, col(Person.id) == Conversation.person_id)
                .where(*due_now)
            )
        ).all()
        open_or_pending = (
            await session.exec(select(Conversation).where(col(Conversation.status).in_(LIVE)))
        ).all()
        # Everyone else a sweep may act for: people with a conversation under way, a pause that
        # ends on a date, and the coordinators (digests).
        others = (
            await session.exec(
                select(Person).where(
                    Person.forgotten == False,  # noqa: E712
                    col(Person.left_at).is_(None),
                    or_(
                        col(Person.role) == "coordinator",
                        and_(col(Person.paused).is_(True), col(Person.paused_until).is_not(None)),
                        col(Person.id).in_(
                            select(Conversation.person_id).where(col(Conversation.status).in_(LIVE))
                        ),
                    ),
                )
            )
        ).all()
        awaiting = (
            await session.exec(
                select(Question, Conversation)
                .join(Conversation, col(Conversation.current_question_id) == Question.id)
                .where(
                    Conversation.status == ConversationStatus.OPEN, Question.status == QuestionStatus.ASKED
                )
            )
        ).all()
        panels = (
            await session.exec(
                select(Panel.id).where(col(Panel.at) > now, col(Panel.at) <= now + timedelta(days=1))
            )
        ).all()
        last_reminded = (
            await session.exec(
                select(Question.person_id, func.max(Question.reminded_at))
                .where(col(Question.reminded_at).is_not(None))
                .group_by(col(Question.person_id))
            )
        ).all()
        asked_now = {c.person_id for c in open_or_pending if c.status == ConversationStatus.OPEN}
        return cls(
            idle={c.person_id for c in open_or_pending if c.person_id not in asked_now},
            last_reminded={person: at for person, at in last_reminded if at is not None},
            directory=await Directory.load(session),
            people={p.id: p for p in [*others, *due]},
            due=list(due),
            keys=set(keys),
            expiring=[
                c.id
                for c in open_or_pending
                if c.id is not None and c.expires_at is not None and c.expires_at <= now
            ],
            due_groups=[
                (c.id, c.person_id)
                for c in open_or_pending
                if c.id is not None
                and c.status == ConversationStatus.OPEN
                and c.next_group_at is not None
                and c.next_group_at <= now
            ],
            awaiting=[(q, c) for q, c in awaiting],
            panels_soon=list(panels),
        )


class Sweeps:
    def __init__(self, engine: Engine, deliverer: Deliverer, links: WebLinks | None = None) -> None:
        self.engine = engine
        # Digests carry a fresh link to the coordinator's web view when it has a public address.
        self.links = links
        self.store = engine.store
        self.deliverer = deliverer

    async def run_all(self, now: datetime, pause: Callable[[], Awaitable[None]] | None = None) -> SweepReport:
        """Every sweep once as of `now`. `pause` is awaited between the steps and before each
        waiting reply is taken, so that the platforms' requests go first (see scheduler.lulls)."""
        report = SweepReport()
        # Replies kept but not yet taken (the process stopped before it got to them) come first.
        report.replies = await self.engine.take_waiting(now, pause=pause)
        await inbox.prune(self.store, now - INBOX_KEEPS)
        await pacing.prune(self.store)
        if filled := await fill_answer_keys(self.store):
            logger.info("filled in the keys of %d answers stored by an older version", filled)
        async with self.store.reading() as session:
            snap = await Snapshot.load(session, now)

        async def between() -> None:
            if pause is not None:
                await pause()

        await between()
        report.resumed = await self.resume_paused(now, snap)
        report.expired = await self.expire(now, snap)
        report.retention = await apply_retention(self.store, now)
        await between()
        report.started = await self.start_due(now, snap)
        report.started += await self.continue_agendas(now, snap)
        await between()
        report.pairing = await PairingSweep(self.engine, in_prompt_window, _paused).run(now)
        await between()
        report.groups_opened = await self.open_due_groups(now, snap)
        await between()
        report.reminders = await self.remind(now, snap)
        await between()
        report.digests = await self.digests(now, snap)
        report.panel_packs = await self.panel_packs(now, snap)
        await between()
        report.drained = await self.deliverer.drain(now)
        logger.info(
            "sweep %s: %d replies taken, %d started, %d days opened, %d reminders, %d expired, %d sent, %d retried, %d failed",
            now.isoformat(),
            report.replies,
            report.started,
            report.groups_opened,
            report.reminders,
            report.expired,
            report.drained.sent,
            report.drained.retried,
            report.drained.failed,
        )
        return report

    async def resume_paused(self, now: datetime, snap: Snapshot) -> int:
        """`pause until DATE` ends on that local date; the current question is asked again."""
        resumed = 0
        for person in snap.people.values():
            if not (person.paused and person.paused_until):
                continue
            cal = snap.directory.calendar(person, now)
            if cal.local_date(now) < person.paused_until or not in_prompt_window(cal, now):
                continue
            async with self.store.session() as session:
                fresh = await person_for_update(session, person.id)
                if fresh is None or not fresh.paused:
                    continue
                fresh.paused, fresh.paused_until = False, None
                session.add(fresh)
                await repeat_current(
                    await Turn.begin(session, fresh, now, self.engine.translator, f"resume@{now.isoformat()}")
                )
                resumed += 1
        return resumed

    async def expire(self, now: datetime, snap: Snapshot) -> int:
        """A conversation that can no longer serve its purpose gives way to the next one."""
        expired = 0
        for conversation_id in snap.expiring:
            async with self.store.session() as session:
                conv = await session.get(Conversation, conversation_id)
                person = await person_for_update(session, conv.person_id) if conv else None
                if conv is None:
                    continue
                await session.refresh(conv)  # as it is now that the person is ours
                if conv.status not in LIVE:
                    continue
                was_open = conv.status == ConversationStatus.OPEN
                conv.status, conv.finished_at, conv.current_question_id = (
                    ConversationStatus.EXPIRED,
                    now,
                    None,
                )
                session.add(conv)
                expired += 1
                logger.info("conversation %s (%s) of %s expired", conv.id, conv.flow, conv.person_id)
                if was_open and person is not None:
                    await session.flush()
                    cal = snap.directory.calendar(person, now)
                    # What comes next waits for the person's prompt time (`continue_agendas`).
                    if not _paused(person, cal, now) and in_prompt_window(cal, now):
                        await begin_next(
                            await Turn.begin(
                                session, person, now, self.engine.translator, f"expired:{conv.id}"
                            )
                        )
        return expired

    async def continue_agendas(self, now: datetime, snap: Snapshot) -> int:
        """Someone asked nothing, with conversations waiting on their agenda (the one they were
        set aside for expired overnight), goes on with the next at their prompt time."""
        continued = 0
        for person_id in sorted(snap.idle):
            person = snap.people.get(person_id)
            if person is None:
                continue
            cal = snap.directory.calendar(person, now)
            if _paused(person, cal, now) or not in_prompt_window(cal, now):
                continue
            if await self.engine.continue_agenda(person_id, now):
                continued += 1
        return continued

    async def start_due(self, now: datetime, snap: Snapshot) -> int:
        plans = {person.id: snap.directory.plan(person) for person in snap.due}
        wanted: list[tuple[str, list[Planned]]] = []
        for person in snap.due:
            cal = snap.directory.calendar(person, now)
            if _paused(person, cal, now) or not in_prompt_window(cal, now):
                continue
            due = [
                p for p in plans[person.id] if p.key not in snap.keys and p.due_at <= now and p.can_start(now)
            ]
            if due:
                wanted.append((person.id, due))
        exist = await self.engine.start_many(wanted, now)
        computed: list[tuple[Person, datetime | None]] = []
        for person in snap.due:
            have = {p.key for p in plans[person.id] if p.key in snap.keys} | exist.get(person.id, set())
            upcoming = [p.due_at for p in plans[person.id] if p.key not in have and p.can_start(now)]
            computed.append((person, min(upcoming, default=None)))
        await self._remember_next_due(computed)
        return sum(len(keys) for keys in exist.values())

    async def _remember_next_due(self, computed: list[tuple[Person, datetime | None]]) -> None:
        """Write when each person's next conversation falls due, unless an import changed the
        programme since their row was read (then the next sweep computes it again)."""
        changed = [
            (p, at) for p, at in computed if p.planned_version != p.plan_version or p.next_due_at != at
        ]
        if not changed:
            return
        due = sorted(((p.id, p.plan_version, at) for p, at in changed), key=lambda row: row[0])
        for first in range(0, len(due), _NEXT_DUE_CHUNK):
            async with self.store.session() as session:
                await remember_next_due(session, due[first : first + _NEXT_DUE_CHUNK])

    async def open_due_groups(self, now: datetime, snap: Snapshot) -> int:
        opened = 0
        for conversation_id, person_id in snap.due_groups:
            person = snap.people.get(person_id)
            if person is None:
                continue
            cal = snap.directory.calendar(person, now)
            if _paused(person, cal, now) or not in_prompt_window(cal, now):
                continue
            await self.engine.open_next_group(conversation_id, now)
            opened += 1
        return opened

    async def remind(self, now: datetime, snap: Snapshot) -> int:
        """A question left unanswered is asked again `after_days` working days after it was asked
        or last reminded, at most `max` times; a person gets at most one reminder a working day,
        so a catch-up after downtime (or a second tick at the same instant) sends no burst."""
        sent = 0
        reminded_today: set[str] = set()
        for question, conv in snap.awaiting:
            person = snap.people.get(question.person_id)
            if person is None or question.asked_at is None or person.id in reminded_today:
                continue
            programme = snap.directory.programmes[person.programme_id]
            if question.reminders_sent >= programme.reminder_max:
                continue
            cal = snap.directory.calendar(person, now)
            if _paused(person, cal, now) or not in_prompt_window(cal, now):
                continue
            last = snap.last_reminded.get(person.id)
            if last is not None and cal.local_date(last) >= cal.local_date(now):
                continue
            since = max(question.asked_at, question.reminded_at or question.asked_at)
            if now < cal.add_working_days(since, programme.reminder_after_days):
                continue
            number = question.reminders_sent + 1
            async with self.store.session() as session:
                if await person_for_update(session, person.id) is None:
                    continue
                # Read after the lock: the conversation may have been set aside (or its question
                # answered) since the snapshot, even earlier in this same sweep.
                fresh = await session.get(Conversation, conv.id)
                if fresh is not None:
                    await session.refresh(fresh)
                if (
                    fresh is None
                    or fresh.status != ConversationStatus.OPEN
                    or fresh.current_question_id != question.id
                ):
                    continue
                # The conditional UPDATE decides which of two racing sweeps sends this reminder,
                # and that one made after the last reminder was written (the same instant ticked
                # twice) finds it already counted.
                claimed = await session.exec(
                    update(Question)
                    .where(
                        col(Question.id) == question.id,
                        col(Question.reminders_sent) == number - 1,
                        col(Question.status) == QuestionStatus.ASKED,
                    )
                    .values(reminders_sent=number, reminded_at=now)
                )
                if not claimed.rowcount:
                    continue
                await remind(
                    await Turn.begin(
                        session, person, now, self.engine.translator, f"remind:{question.id}:{number}"
                    ),
                    question,
                    conv,
                    number,
                )
            sent += 1
            reminded_today.add(person.id)
            logger.info("reminder %d for question %s of %s", number, question.id, person.id)
        return sent

    async def digests(self, now: datetime, snap: Snapshot) -> int:
        """The weekly digest, at `digest.every` in each coordinator's own time zone."""
        sent = 0
        for coordinator in snap.people.values():
            if coordinator.role != "coordinator":
                continue
            programme = snap.directory.programmes[coordinator.programme_id]
            weekday, at = programme.digest_every.lower().split()
            cal = WorkCalendar(coordinator.timezone or programme.timezone, prompt_time=local_time(at))
            day = cal.local_date(now)
            opens = cal.prompt_at(day)
            if day.strftime("%a").lower() != weekday[:3] or not opens <= now < opens + PROMPT_WINDOW:
                continue
            key = f"digest:{coordinator.id}:{day.isoformat()}"
            if await self._written(key):
                continue
            link = await self.links.fresh_url(coordinator.id, now) if self.links else None
            message = await digest_message(self.store, coordinator.id, now, self.engine.translator, link)
            async with self.store.session() as session:
                if await enqueue(
                    session, key=key, person_id=coordinator.id, payload=message.to_json(), now=now
                ):
                    sent += 1
        return sent

    async def panel_packs(self, now: datetime, snap: Snapshot) -> int:
        """The panel pack goes to the panel's audience the day before the panel."""
        sent = 0
        for panel_id in snap.panels_soon:
            if await self._written_prefix(f"panel-pack:{panel_id}:"):
                continue
            for channel, message in await panel_pack_messages(self.store, panel_id, self.engine.translator):
                async with self.store.session() as session:
                    if await enqueue(
                        session,
                        key=f"panel-pack:{panel_id}:{channel}",
                        person_id=None,
                        channel=channel,
                        payload=message.to_json(),
                        now=now,
                    ):
                        sent += 1
        return sent

    async def _written_prefix(self, prefix: str) -> bool:
        async with self.store.session() as session:
            query = select(OutboxMessage.id).where(col(OutboxMessage.key).startswith(prefix))
            return (await session.exec(query)).first() is not None

    async def _written(self, key: str) -> bool:
        async with self.store.session() as session:
            return (
                await session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key))
            ).first() is not None
