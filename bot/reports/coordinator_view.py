"""What a coordinator's web view shows, as plain data: the programme overview of their
participants, the needs-attention list, and one participant's reflections.

The scope is the digest's (`bot.reports.digest`): the participants of the partnerships the
coordinator follows, whose answers coordinators may read whatever the panel consent; nobody else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.flows import FLOWS
from bot.plan import Directory
from bot.progress import progress
from bot.reports.digest import (
    NEXT_STEP_KEYS,
    Digest,
    OpenRequest,
    Unreachable,
    _participants,
    build_digest,
)
from bot.reports.outcomes import Outcomes, build_outcomes
from bot.reports.panel_pack import PackItem, PanelPack, build_panel_pack
from storage.conversations import questions_of_many
from storage.db import Store
from storage.models import (
    AhaMoment,
    Answer,
    Conversation,
    ConversationStatus,
    CoordinatorPartnership,
    LearningGoal,
    Panel,
    PanelPresenter,
    Partnership,
    Person,
    PersonGoal,
    Question,
    QuestionStatus,
)

logger = logging.getLogger(__name__)

# Someone whose question has waited this many of their working days is on the needs-attention list.
SILENT_WORKING_DAYS = 5
# Next steps and risks raised in reflections stay on the list this long.
RAISED_FOR = timedelta(days=30)
# The response-rate chart: this many weeks, the last one ending now.
WEEKS = 8
STARTED = (ConversationStatus.OPEN, ConversationStatus.WAITING)


@dataclass(frozen=True)
class ParticipantRow:
    id: str
    name: str
    partnership: str
    day: int | None  # exchange day n (1-based) of `days`; None outside the exchange
    days: int | None
    before_start: bool
    conversation: str | None  # the flow of the open (or waiting) conversation
    answered: int
    total: int
    last_answer_at: datetime | None
    paused: bool
    paused_until: date | None
    left: bool
    next_flow: str | None  # the next planned conversation not started yet
    next_at: datetime | None


@dataclass(frozen=True)
class WeekRate:
    starts: datetime
    asked: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class PartnershipRows:
    id: str
    name: str
    participants: tuple[ParticipantRow, ...]


@dataclass(frozen=True)
class Overview:
    digest: Digest  # name, language, time zone, upcoming panels, and what the digest shows
    partnerships: tuple[PartnershipRows, ...]
    weeks: tuple[WeekRate, ...]


@dataclass(frozen=True)
class Silent:
    person_id: str
    name: str
    asked_at: datetime
    working_days: int


@dataclass(frozen=True)
class Raised:
    person_id: str
    name: str
    kind: str  # next_steps | opportunities | risk
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class ExpiredUnanswered:
    person_id: str
    name: str
    flow: str
    expired_at: datetime | None


@dataclass(frozen=True)
class Attention:
    digest: Digest
    support: tuple[OpenRequest, ...]
    silent: tuple[Silent, ...]
    unreachable: tuple[Unreachable, ...]
    raised: tuple[Raised, ...]
    expired: tuple[ExpiredUnanswered, ...]

    @property
    def count(self) -> int:
        return (
            len(self.support)
            + len(self.silent)
            + len(self.unreachable)
            + len(self.raised)
            + len(self.expired)
        )


@dataclass(frozen=True)
class Item:
    flow: str
    question: str  # as it was asked, in the participant's language
    answer: str
    answered_at: datetime
    # The participant's own choice for the panel: named | anonymous | private; None for an answer
    # that is not a panel item (read by their coordinators only).
    consent: str | None


@dataclass(frozen=True)
class GoalSection:
    goal: str | None  # None: answers about no single learning goal
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Reflections:
    person_id: str
    name: str
    partnership: str
    sections: tuple[GoalSection, ...]


async def visible_people(session: AsyncSession, coordinator_id: str) -> dict[str, Person]:
    """The participants the coordinator may see: those of the partnerships they follow."""
    ids = (
        await session.exec(
            select(CoordinatorPartnership.partnership_id).where(
                CoordinatorPartnership.person_id == coordinator_id
            )
        )
    ).all()
    return {p.id: p for p in await _participants(session, list(ids))}


async def build_overview(
    store: Store, coordinator_id: str, now: datetime, digest: Digest | None = None
) -> Overview:
    """`digest`: the coordinator's digest as of `now`, when the caller has built it already."""
    digest = digest or await build_digest(store, coordinator_id, now)
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        directory = await Directory.load(session)
        ids = list(people)
        conversations = (
            await session.exec(select(Conversation).where(col(Conversation.person_id).in_(ids)))
        ).all()
        # The open conversation, else one waiting behind another (both count as in progress).
        started = [c for c in conversations if c.status in STARTED and c.id is not None]
        current: dict[str, Conversation] = {}
        for conv in sorted(started, key=lambda c: c.status != ConversationStatus.OPEN):
            current.setdefault(conv.person_id, conv)
        questions = await questions_of_many(session, [c.id for c in current.values() if c.id is not None])
        existing = {c.key for c in conversations if c.status != ConversationStatus.PENDING}
        last = dict(
            (
                await session.exec(
                    select(Answer.person_id, func.max(Answer.answered_at))  # type: ignore[call-overload]
                    .where(col(Answer.person_id).in_(ids), col(Answer.answered_at) <= now)
                    .group_by(col(Answer.person_id))
                )
            ).all()
        )
        weeks = await _weeks(session, ids, now)

    rows: dict[str, list[ParticipantRow]] = {}
    for person in people.values():
        cal = directory.calendar(person)
        today = cal.local_date(now)
        day = days = None
        if person.start and person.end:
            days = (person.end - person.start).days + 1
            n = (today - person.start).days + 1
            day = n if 1 <= n <= days else None
        now_in = current.get(person.id)
        where = progress(questions[now_in.id]) if now_in is not None and now_in.id is not None else None
        upcoming = next((p for p in directory.plan(person) if p.key not in existing and p.due_at > now), None)
        rows.setdefault(person.partnership_id or "", []).append(
            ParticipantRow(
                id=person.id,
                name=person.name,
                partnership=person.partnership_id or "",
                day=day,
                days=days,
                before_start=bool(person.start and today < person.start),
                conversation=now_in.flow if now_in else None,
                answered=where.done if where else 0,
                total=where.total if where else 0,
                last_answer_at=last.get(person.id),
                paused=person.paused,
                paused_until=person.paused_until,
                left=person.left_at is not None,
                next_flow=upcoming.flow if upcoming and person.in_programme else None,
                next_at=upcoming.due_at if upcoming and person.in_programme else None,
            )
        )
    parts = tuple(PartnershipRows(p.id, p.name, tuple(rows.get(p.id, []))) for p in digest.partnerships)
    logger.info("overview for %s: %d participants", coordinator_id, len(people))
    return Overview(digest=digest, partnerships=parts, weeks=weeks)


async def _weeks(session: AsyncSession, ids: list[str], now: datetime) -> tuple[WeekRate, ...]:
    """Per week: participants asked a question that week, and of them who answered one of those."""
    first = now - timedelta(weeks=WEEKS)
    asked = (
        await session.exec(
            select(Question.id, Question.person_id, Question.asked_at).where(
                col(Question.person_id).in_(ids),
                col(Question.asked_at) > first,
                col(Question.asked_at) <= now,
            )
        )
    ).all()
    answered = set(
        (
            await session.exec(
                select(Answer.question_id).where(
                    col(Answer.question_id).in_([q for q, _p, _a in asked]), col(Answer.answered_at) <= now
                )
            )
        ).all()
    )
    result = []
    for week in range(WEEKS):
        starts = first + timedelta(weeks=week)
        ends = starts + timedelta(weeks=1)
        in_week = [(q, p) for q, p, at in asked if at is not None and starts < at <= ends]
        who = {p for _q, p in in_week}
        answering = {p for q, p in in_week if q in answered}
        result.append(WeekRate(starts, len(who), len(answering)))
    return tuple(result)


async def build_attention(store: Store, coordinator_id: str, now: datetime) -> Attention:
    digest = await build_digest(store, coordinator_id, now)
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        directory = await Directory.load(session)
        ids = [p.id for p in people.values() if p.in_programme]
        waiting = (
            await session.exec(
                select(Question.person_id, func.min(Question.asked_at))  # type: ignore[call-overload]
                .join(Conversation, col(Conversation.id) == Question.conversation_id)
                .where(
                    col(Question.person_id).in_(ids),
                    Question.status == QuestionStatus.ASKED,
                    col(Conversation.status).in_(STARTED),
                    col(Question.asked_at) <= now,
                )
                .group_by(col(Question.person_id))
            )
        ).all()
        rows = (
            await session.exec(
                select(Answer.person_id, Answer.text, Answer.values, Answer.answered_at, Question.key)  # type: ignore[call-overload]
                .join(Question, col(Answer.question_id) == Question.id)
                .where(
                    col(Answer.person_id).in_(list(people)),
                    col(Answer.answered_at) > now - RAISED_FOR,
                    col(Answer.answered_at) <= now,
                    col(Question.key).in_([*NEXT_STEP_KEYS, "support", "support_note"]),
                )
                .order_by(col(Answer.answered_at), col(Answer.id))
            )
        ).all()
        answered_conversations = set(
            (
                await session.exec(
                    select(Question.conversation_id)
                    .join(Answer, col(Answer.question_id) == Question.id)
                    .where(col(Question.person_id).in_(list(people)))
                )
            ).all()
        )
        expired = (
            await session.exec(
                select(Conversation)
                .where(
                    col(Conversation.person_id).in_(list(people)),
                    Conversation.status == ConversationStatus.EXPIRED,
                )
                .order_by(col(Conversation.finished_at), col(Conversation.id))
            )
        ).all()

    silent = []
    for person_id, asked_at in waiting:
        person = people[person_id]
        if person.paused or asked_at is None:
            continue
        cal = directory.calendar(person)
        day, today, count = cal.local_date(asked_at), cal.local_date(now), 0
        while day < today:
            day += timedelta(days=1)
            count += cal.is_working_day(day)
        if count >= SILENT_WORKING_DAYS:
            silent.append(Silent(person_id, person.name, asked_at, count))

    raised = []
    notes = {(p, at): text for p, text, _v, at, key in rows if key == "support_note"}
    for person_id, text, values, answered_at, key in rows:
        if key in NEXT_STEP_KEYS and text.strip():
            raised.append(Raised(person_id, people[person_id].name, key, text, answered_at))
        elif key == "support" and "yes" in (values or []):
            note = next((t for (p, at), t in notes.items() if p == person_id and at >= answered_at), "")
            raised.append(Raised(person_id, people[person_id].name, "risk", note, answered_at))

    return Attention(
        digest=digest,
        support=tuple(r for p in digest.partnerships for r in p.support),
        silent=tuple(sorted(silent, key=lambda s: s.asked_at)),
        unreachable=tuple(u for p in digest.partnerships for u in p.unreachable),
        raised=tuple(raised),
        expired=tuple(
            ExpiredUnanswered(c.person_id, people[c.person_id].name, c.flow, c.finished_at)
            for c in expired
            if c.id not in answered_conversations
        ),
    )


async def build_reflections(store: Store, coordinator_id: str, person_id: str) -> Reflections | None:
    """The participant's answers grouped by learning goal, with their consent on each panel item;
    None when the coordinator may not see this person."""
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        person = people.get(person_id)
        if person is None:
            return None
        goals = (
            await session.exec(
                select(LearningGoal)
                .join(PersonGoal, col(PersonGoal.goal_id) == LearningGoal.id)
                .where(PersonGoal.person_id == person_id)
                .order_by(col(PersonGoal.position))
            )
        ).all()
        rows = (
            await session.exec(
                select(Answer, Question, Conversation)
                .join(Question, col(Answer.question_id) == Question.id)
                .join(Conversation, col(Question.conversation_id) == Conversation.id)
                .where(Answer.person_id == person_id)
                .order_by(col(Answer.answered_at), col(Answer.id))
            )
        ).all()
        consents = {
            m.question_id: m.consent
            for m in (await session.exec(select(AhaMoment).where(AhaMoment.person_id == person_id))).all()
        }
        partnership = await session.get(Partnership, person.partnership_id) if person.partnership_id else None
    by_goal: dict[str | None, list[Item]] = {}
    for answer, question, conv in rows:
        flow = FLOWS.get(conv.flow)
        spec = next((q for q in flow.questions if q.key == question.key), None) if flow else None
        if spec is not None and spec.consent_for:
            continue  # shown as the consent of the item it is about
        by_goal.setdefault(question.goal_id, []).append(
            Item(conv.flow, question.text, answer.text, answer.answered_at, consents.get(question.id))
        )
    sections = [GoalSection(g.text, tuple(by_goal.pop(g.id))) for g in goals if g.id in by_goal]
    rest = [item for items in by_goal.values() for item in items]
    if rest:
        sections.append(GoalSection(None, tuple(sorted(rest, key=lambda i: i.answered_at))))
    logger.info("reflections of %s for %s: %d answers", person_id, coordinator_id, len(rows))
    return Reflections(person.id, person.name, partnership.name if partnership else "", tuple(sections))


@dataclass(frozen=True)
class PanelLink:
    id: str
    title: str
    at: datetime
    timezone: str


async def panels_for(store: Store, coordinator_id: str) -> list[PanelLink]:
    """The panels at which one of the coordinator's participants presents, in date order."""
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        panels = (
            await session.exec(
                select(Panel)
                .join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
                .where(col(PanelPresenter.person_id).in_(list(people)))
                .order_by(col(Panel.at))
            )
        ).all()
    seen: dict[str, PanelLink] = {}
    for panel in panels:
        seen.setdefault(panel.id, PanelLink(panel.id, panel.title, panel.at, panel.timezone))
    return list(seen.values())


async def pack_for(store: Store, coordinator_id: str, panel_id: str) -> PanelPack | None:
    """The panel pack as its audience gets it (consented items only, anonymous ones without a
    name and only where the group is large enough), narrowed to the coordinator's own
    participants and presenters; None for a panel none of them presents at."""
    if panel_id not in {p.id for p in await panels_for(store, coordinator_id)}:
        return None
    pack = await build_panel_pack(store, panel_id)
    async with store.reading() as session:
        people = await visible_people(session, coordinator_id)
        theirs = set(
            (await session.exec(select(AhaMoment.id).where(col(AhaMoment.person_id).in_(list(people))))).all()
        )
        partnerships = {
            p.name
            for p in (
                await session.exec(
                    select(Partnership).where(
                        col(Partnership.id).in_({p.partnership_id for p in people.values()})
                    )
                )
            ).all()
        }

    def keep(items: tuple[PackItem, ...]) -> tuple[PackItem, ...]:
        return tuple(i for i in items if i.id in theirs)

    groups = []
    for group in pack.partnerships:
        by_goal = tuple(replace(g, items=keep(g.items)) for g in group.by_goal if keep(g.items))
        anonymous = keep(group.anonymous)
        if by_goal or anonymous:
            groups.append(replace(group, by_goal=by_goal, anonymous=anonymous))
    return replace(
        pack,
        presenters=tuple(p for p in pack.presenters if p.partnership in partnerships),
        partnerships=tuple(groups),
        anonymous=keep(pack.anonymous),
        discussion=keep(pack.discussion),
    )


async def outcomes_for(store: Store, coordinator_id: str) -> Outcomes:
    """The learning-outcome report over the coordinator's partnerships."""
    async with store.reading() as session:
        ids = (
            await session.exec(
                select(CoordinatorPartnership.partnership_id).where(
                    CoordinatorPartnership.person_id == coordinator_id
                )
            )
        ).all()
        coordinator = await session.get(Person, coordinator_id)
    return await build_outcomes(store, coordinator.programme_id if coordinator else None, list(ids))
