"""The coordinator's weekly digest: for each partnership they follow, who is at their midpoint, who
answered, highlights, next steps, open support requests, who cannot be reached, upcoming panels.

Coordinators see their participants' answers whatever the panel consent (DESIGN.md), so the digest
quotes answers; it is sent only to the coordinator it is built for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.flows import FLOWS, QuestionSpec
from bot.i18n import N_, NP_, Plural, Translator, format_day
from bot.messages import Outgoing
from bot.plan import Directory
from bot.progress import progress
from bot.reports.common import language_of, local_moment, names, percent, short, zoned_moment
from bot.reports.document import Block, Bullets, Heading, Paragraph, to_html, to_markdown, to_text
from bot.reports.pairing_report import DigestPairs, digest_blocks, digest_pairs
from bot.web_links import Claim
from storage.conversations import questions_of_many
from storage.db import Store
from storage.models import (
    Answer,
    ChatIdentity,
    Conversation,
    ConversationStatus,
    CoordinatorPartnership,
    OutboxMessage,
    OutboxStatus,
    Panel,
    PanelPresenter,
    Partnership,
    Person,
    Programme,
    Question,
    SupportRequest,
)
from storage.notes import notes_of

logger = logging.getLogger(__name__)

# "Who answered" looks at the questions asked in the week before the digest.
WINDOW = timedelta(days=7)
# Someone is "near" their midpoint when it falls due within two weeks either side.
NEAR_MIDPOINT = timedelta(days=14)
# Answers to these questions are worth sharing, besides the aha moments and takeaways recorded for
# the panel: they are what a coordinator would pass on.
SHARED_KEYS = frozenset({"achievements", "applied_what", "shared_home", "obstacles", "would_help"})
NEXT_STEP_KEYS = frozenset({"next_steps", "opportunities"})

KIND_LABELS = {
    "aha": N_("Aha moment"),
    "takeaway": N_("Takeaway"),
    "achievements": N_("Achievement"),
    "next_steps": N_("Next step"),
    "opportunities": N_("Opportunity"),
    # A follow-up after return.
    "applied_what": N_("Applied at home"),
    "shared_home": N_("Shared at home"),
    "obstacles": N_("In the way"),
    "would_help": N_("Would help"),
}
ADVICE = {
    "teams": N_("install the Teams app for them (or ask them to install it)"),
    "slack": N_("check their Slack id in the programme file"),
    None: N_("add their Slack or Teams id to the programme file"),
}
RESPONSE_RATE_DEFINITION = N_(
    "Response rate: the share of participants asked a question in the last 7 days who answered at "
    "least one of those questions."
)


class UnknownCoordinator(LookupError):
    pass


def is_highlight(spec: QuestionSpec) -> bool:
    return spec.records in ("aha", "takeaway") or spec.key in SHARED_KEYS


# The questions whose answers the digest quotes: only their answers are read from the week's.
QUOTED_KEYS = tuple(
    sorted({q.key for f in FLOWS.values() for q in f.questions if is_highlight(q) or q.key in NEXT_STEP_KEYS})
)


@dataclass(frozen=True)
class MidpointItem:
    person_id: str
    name: str
    due_at: datetime
    state: str  # upcoming | waiting | open | done | expired
    answered: int = 0
    total: int = 0
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Quote:
    person_id: str
    name: str
    kind: str  # aha | takeaway | achievements | next_steps | opportunities
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class OpenRequest:
    id: int
    person_id: str
    name: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Unreachable:
    person_id: str
    name: str
    platform: str | None  # the platform that fails them, or None when they have no chat identity
    reason: str


@dataclass(frozen=True)
class PartnershipDigest:
    id: str
    name: str
    participants: tuple[str, ...]
    midpoint: tuple[MidpointItem, ...]
    asked: tuple[str, ...]  # names of participants asked a question in the window
    answered: tuple[str, ...]  # of those, who answered at least one of those questions
    highlights: tuple[Quote, ...]
    next_steps: tuple[Quote, ...]
    support: tuple[OpenRequest, ...]
    unreachable: tuple[Unreachable, ...]
    # What participants wrote that answered no question, kept as theirs (kind "note").
    notes: tuple[Quote, ...] = ()
    # The latest pairing round's pairs with these participants (`bot.reports.pairing_report`).
    pairs: DigestPairs = field(default_factory=DigestPairs)

    @property
    def not_answered(self) -> tuple[str, ...]:
        return tuple(n for n in self.asked if n not in self.answered)

    @property
    def response_rate(self) -> float | None:
        return len(self.answered) / len(self.asked) if self.asked else None


@dataclass(frozen=True)
class PanelStatus:
    id: str
    title: str
    at: datetime
    timezone: str  # the panel's own: shown with its time, as the panel pack shows it
    place: str
    presenters: tuple[str, ...]  # presenters from the coordinator's partnerships
    prepared: tuple[str, ...]  # of those, who finished their panel preparation


@dataclass(frozen=True)
class Digest:
    coordinator_id: str
    coordinator_name: str
    language: str
    timezone: str
    now: datetime
    since: datetime
    partnerships: tuple[PartnershipDigest, ...]
    panels: tuple[PanelStatus, ...]


async def build_digest(store: Store, coordinator_id: str, now: datetime) -> Digest:
    async with store.session() as session:
        coordinator = await session.get(Person, coordinator_id)
        if coordinator is None or coordinator.forgotten or coordinator.role != "coordinator":
            raise UnknownCoordinator(coordinator_id)
        programme = await session.get(Programme, coordinator.programme_id)
        assert programme is not None
        partnerships = (
            await session.exec(
                select(Partnership)
                .join(CoordinatorPartnership, col(CoordinatorPartnership.partnership_id) == Partnership.id)
                .where(CoordinatorPartnership.person_id == coordinator_id)
                .order_by(col(Partnership.name))
            )
        ).all()
        since = now - WINDOW
        directory = await Directory.load(session)
        parts = [await _partnership(session, directory, p, now, since) for p in partnerships]
        panels = await _panels(session, [p.id for p in partnerships], now)
        logger.info("digest for %s: %d partnerships, %d panels", coordinator_id, len(parts), len(panels))
        return Digest(
            coordinator_id=coordinator.id,
            coordinator_name=coordinator.name,
            language=language_of(coordinator, programme),
            timezone=coordinator.timezone or programme.timezone,
            now=now,
            since=since,
            partnerships=tuple(parts),
            panels=tuple(panels),
        )


async def _participants(session: AsyncSession, partnership_ids: Sequence[str]) -> list[Person]:
    rows = await session.exec(
        select(Person)
        .where(
            col(Person.partnership_id).in_(partnership_ids),
            Person.role == "participant",
            Person.forgotten == False,  # noqa: E712
        )
        .order_by(col(Person.name))
    )
    return list(rows.all())


async def _partnership(
    session: AsyncSession, directory: Directory, partnership: Partnership, now: datetime, since: datetime
) -> PartnershipDigest:
    people = await _participants(session, [partnership.id])
    by_id = {p.id: p for p in people}
    ids = list(by_id)

    midpoint = await _midpoints(session, directory, people, now)

    asked_rows = (
        await session.exec(
            select(Question.id, Question.person_id).where(
                col(Question.person_id).in_(ids),
                col(Question.asked_at) > since,
                col(Question.asked_at) <= now,
            )
        )
    ).all()
    asked_ids = {pid for _qid, pid in asked_rows}
    answered_ids = set(
        (
            await session.exec(
                select(Answer.person_id).where(
                    col(Answer.question_id).in_([qid for qid, _pid in asked_rows]),
                    col(Answer.answered_at) <= now,
                )
            )
        ).all()
    )

    highlights: list[Quote] = []
    next_steps: list[Quote] = []
    rows = await session.exec(
        select(Answer.person_id, Answer.text, Answer.answered_at, Answer.key, Answer.flow)  # type: ignore[call-overload]
        .where(
            col(Answer.person_id).in_(ids),
            col(Answer.answered_at) > since,
            col(Answer.answered_at) <= now,
            col(Answer.key).in_(QUOTED_KEYS),
        )
        .order_by(col(Answer.answered_at), col(Answer.id))
    )
    for person_id, text, answered_at, key, flow_id in rows.all():
        flow = FLOWS.get(flow_id)
        spec = next((q for q in flow.questions if q.key == key), None) if flow else None
        if spec is None or not text.strip():
            continue
        name = by_id[person_id].name
        if is_highlight(spec):
            kind = spec.key if spec.key in KIND_LABELS else spec.records or spec.key
            highlights.append(Quote(person_id, name, kind, short(text), answered_at))
        elif spec.key in NEXT_STEP_KEYS:
            next_steps.append(Quote(person_id, name, spec.key, short(text), answered_at))

    requests = (
        await session.exec(
            select(SupportRequest)
            .where(col(SupportRequest.person_id).in_(ids), SupportRequest.handled_at == None)  # noqa: E711
            .order_by(col(SupportRequest.created_at), col(SupportRequest.id))
        )
    ).all()
    support = [
        OpenRequest(r.id, r.person_id, by_id[r.person_id].name, r.created_at, r.text)  # type: ignore[arg-type]
        for r in requests
    ]

    unreachable = await _unreachables(session, people)
    notes = [
        Quote(n.person_id, by_id[n.person_id].name, "note", short(n.text), n.written_at)
        for n in await notes_of(session, ids, since)
        if n.written_at <= now
    ]

    return PartnershipDigest(
        id=partnership.id,
        name=partnership.name,
        participants=tuple(p.name for p in people),
        midpoint=tuple(midpoint),
        asked=tuple(p.name for p in people if p.id in asked_ids),
        answered=tuple(p.name for p in people if p.id in answered_ids),
        highlights=tuple(highlights),
        next_steps=tuple(next_steps),
        support=tuple(support),
        unreachable=tuple(unreachable),
        notes=tuple(notes),
        pairs=await digest_pairs(session, partnership.programme_id, set(ids), now, since),
    )


async def _midpoints(
    session: AsyncSession, directory: Directory, people: list[Person], now: datetime
) -> list[MidpointItem]:
    planned = {
        p.id: plan
        for p in people
        if (plan := next((x for x in directory.plan(p) if x.flow == "midpoint"), None)) is not None
    }
    conversations = {
        c.key: c
        for c in (
            await session.exec(
                select(Conversation).where(col(Conversation.key).in_([x.key for x in planned.values()]))
            )
        ).all()
    }
    # A midpoint set aside for a panel preparation is still in progress.
    started = (ConversationStatus.OPEN, ConversationStatus.WAITING)
    open_ids = [c.id for c in conversations.values() if c.id is not None and c.status in started]
    questions = await questions_of_many(session, open_ids)
    items = []
    for person in people:
        plan = planned.get(person.id)
        if plan is None:
            continue
        conv = conversations.get(plan.key)
        if conv is not None and conv.id is not None and conv.status in started:
            # The participant's own count, as their `status` says it (bot.progress).
            where = progress(questions[conv.id])
            items.append(MidpointItem(person.id, person.name, plan.due_at, "open", where.done, where.total))
        elif abs(plan.due_at - now) > NEAR_MIDPOINT:
            continue
        elif conv is None or conv.status == ConversationStatus.PENDING:
            state = "upcoming" if plan.due_at > now else "waiting"
            items.append(MidpointItem(person.id, person.name, plan.due_at, state))
        else:
            items.append(
                MidpointItem(
                    person.id,
                    person.name,
                    plan.due_at,
                    conv.status,
                    finished_at=conv.finished_at or conv.started_at,
                )
            )
    return items


async def _unreachables(session: AsyncSession, people: list[Person]) -> list[Unreachable]:
    ids = [p.id for p in people]
    identities: dict[str, set[str]] = {}
    for identity in (
        await session.exec(select(ChatIdentity).where(col(ChatIdentity.person_id).in_(ids)))
    ).all():
        identities.setdefault(identity.person_id, set()).add(identity.platform)
    # Each person's latest finished delivery: when it failed, they are not reached now (an older
    # failure followed by a success is history).
    latest = (
        select(func.max(OutboxMessage.id))
        .where(
            col(OutboxMessage.person_id).in_(ids),
            OutboxMessage.channel == None,  # noqa: E711
            col(OutboxMessage.status).in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
        )
        .group_by(col(OutboxMessage.person_id))
    )
    failed = {
        row.person_id: row.last_error or "delivery failed"
        for row in (
            await session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.id).in_(latest), OutboxMessage.status == OutboxStatus.FAILED
                )
            )
        ).all()
    }
    found = []
    for person in people:
        reason = person.unreachable_reason or failed.get(person.id)
        if not reason:
            continue
        known = identities.get(person.id, set())
        # Prompts go to Slack first, then Teams (bot.delivery.PLATFORM_ORDER).
        default = "slack" if "slack" in known else "teams" if "teams" in known else None
        named = next((p for p in ("teams", "slack") if p in reason.casefold()), None)
        found.append(Unreachable(person.id, person.name, named or default, reason))
    return found


async def _panels(session: AsyncSession, partnership_ids: list[str], now: datetime) -> list[PanelStatus]:
    people = {p.id: p for p in await _participants(session, partnership_ids)}
    panels = (await session.exec(select(Panel).where(col(Panel.at) > now).order_by(col(Panel.at)))).all()
    result = []
    for panel in panels:
        presenter_ids = [
            pp.person_id
            for pp in (
                await session.exec(
                    select(PanelPresenter)
                    .where(PanelPresenter.panel_id == panel.id)
                    .order_by(col(PanelPresenter.position))
                )
            ).all()
            if pp.person_id in people
        ]
        if not presenter_ids:
            continue
        done = set(
            (
                await session.exec(
                    select(Conversation.person_id).where(
                        col(Conversation.key).in_([f"panel-prep:{panel.id}:{pid}" for pid in presenter_ids]),
                        Conversation.status == ConversationStatus.DONE,
                    )
                )
            ).all()
        )
        result.append(
            PanelStatus(
                id=panel.id,
                title=panel.title,
                at=panel.at,
                timezone=panel.timezone,
                place=panel.place,
                presenters=tuple(people[pid].name for pid in presenter_ids),
                prepared=tuple(people[pid].name for pid in presenter_ids if pid in done),
            )
        )
    return result


# -- layout ----------------------------------------------------------------------------------


def _blocks(digest: Digest, translator: Translator, language: str) -> list[Block]:
    def t(message: str | Plural, **values: object) -> str:
        return translator.gettext(language, message, **values)

    def when(moment: datetime) -> str:
        return local_moment(language, moment, digest.timezone)

    def day(moment: datetime) -> str:
        return format_day(language, moment.astimezone(ZoneInfo(digest.timezone)).date())

    blocks: list[Block] = [
        Heading(t(N_("Weekly digest for {name}"), name=digest.coordinator_name), 1),
        Paragraph(t(N_("{date} · covering the last 7 days"), date=day(digest.now)), note=True),
    ]
    if not digest.partnerships:
        blocks.append(Paragraph(t(N_("You follow no partnership."))))
    for part in digest.partnerships:
        blocks.append(Heading(part.name, 2))

        blocks.append(Heading(t(N_("At or near their midpoint")), 3))
        if part.midpoint:
            blocks.append(Bullets(tuple(_midpoint_line(m, t, day) for m in part.midpoint)))
        else:
            blocks.append(
                Paragraph(t(N_("No one is at or near their midpoint (within 14 days).")), note=True)
            )

        blocks.append(Heading(t(N_("Who answered")), 3))
        rate = part.response_rate
        if rate is None:
            blocks.append(Paragraph(t(N_("No one was asked a question in the last 7 days."))))
        else:
            lines = [
                t(
                    N_("Response rate: {rate} ({answered} of {asked})"),
                    rate=percent(language, rate),
                    answered=len(part.answered),
                    asked=len(part.asked),
                )
            ]
            if part.answered:
                lines.append(t(N_("Answered: {names}"), names=names(part.answered)))
            if part.not_answered:
                lines.append(t(N_("Not answered yet: {names}"), names=names(part.not_answered)))
            blocks.append(Bullets(tuple(lines)))

        for heading, quotes in (
            (N_("Highlights"), part.highlights),
            (N_("Next steps and opportunities raised"), part.next_steps),
        ):
            blocks.append(Heading(t(heading), 3))
            if quotes:
                blocks.append(
                    Bullets(
                        tuple(
                            t(
                                N_("{kind} · {name}: “{text}”"),
                                kind=t(KIND_LABELS[q.kind]),
                                name=q.name,
                                text=q.text,
                            )
                            for q in quotes
                        )
                    )
                )
            else:
                blocks.append(Paragraph(t(N_("Nothing new this week.")), note=True))

        if part.notes:
            blocks.append(Heading(t(N_("Notes they wrote")), 3))
            blocks.append(
                Bullets(
                    tuple(
                        t(N_("{name}, {when}: “{text}”"), name=q.name, when=when(q.answered_at), text=q.text)
                        for q in part.notes
                    )
                )
            )

        blocks.extend(digest_blocks(part.pairs, t))

        blocks.append(Heading(t(N_("Open support requests")), 3))
        if part.support:
            blocks.append(
                Bullets(
                    tuple(
                        t(
                            N_("No. {id} · {name}, {when}: “{text}”"),
                            id=r.id,
                            name=r.name,
                            when=when(r.created_at),
                            text=r.text,
                        )
                        for r in part.support
                    )
                )
            )
            blocks.append(
                Paragraph(
                    t(
                        N_("Once a request is dealt with, write {cmd_handled} and its number, e.g. {cmd_handled} {id}."),
                        id=part.support[0].id,
                    ),
                    note=True,
                )
            )
        else:
            blocks.append(Paragraph(t(N_("None.")), note=True))

        blocks.append(Heading(t(N_("People the bot cannot reach")), 3))
        if part.unreachable:
            blocks.append(
                Bullets(
                    tuple(
                        t(
                            N_("{name} ({reason}). What to do: {advice}"),
                            name=u.name,
                            reason=u.reason,
                            advice=t(ADVICE[u.platform if u.platform in ADVICE else None]),
                        )
                        for u in part.unreachable
                    )
                )
            )
        else:
            blocks.append(Paragraph(t(N_("None.")), note=True))

    blocks.append(Heading(t(N_("Upcoming panels")), 2))
    if digest.panels:
        lines = []
        for panel in digest.panels:
            lines.append(
                t(
                    NP_(
                        "{title}, {when}: {prepared} of {total} presenter has prepared",
                        "{title}, {when}: {prepared} of {total} presenters have prepared",
                        "total",
                    ),
                    title=panel.title,
                    when=zoned_moment(translator, language, panel.at, panel.timezone),
                    prepared=len(panel.prepared),
                    total=len(panel.presenters),
                )
            )
            waiting = [n for n in panel.presenters if n not in panel.prepared]
            if waiting:
                lines.append(t(N_("Not prepared yet: {names}"), names=names(waiting)))
        blocks.append(Bullets(tuple(lines)))
    else:
        blocks.append(Paragraph(t(N_("No upcoming panels.")), note=True))
    if digest.partnerships:
        blocks.append(Paragraph(t(RESPONSE_RATE_DEFINITION), note=True))
    return blocks


def _midpoint_line(m: MidpointItem, t: Callable[..., str], day: Callable[[datetime], str]) -> str:
    if m.state == "open":
        return t(
            NP_(
                "{name}: midpoint reflection in progress, {answered} of {total} question answered",
                "{name}: midpoint reflection in progress, {answered} of {total} questions answered",
                "total",
            ),
            name=m.name,
            answered=m.answered,
            total=m.total,
        )
    if m.state == "done":
        return t(
            N_("{name}: midpoint reflection done on {date}"), name=m.name, date=day(m.finished_at or m.due_at)
        )
    if m.state == "expired":
        return t(N_("{name}: midpoint reflection expired unfinished"), name=m.name)
    if m.state == "waiting":
        return t(
            N_("{name}: midpoint reflection due since {date}, not started yet"),
            name=m.name,
            date=day(m.due_at),
        )
    return t(N_("{name}: midpoint reflection starts on {date}"), name=m.name, date=day(m.due_at))


def render_text(digest: Digest, translator: Translator, language: str | None = None) -> str:
    return to_text(_blocks(digest, translator, language or digest.language))


def render_markdown(digest: Digest, translator: Translator, language: str | None = None) -> str:
    return to_markdown(_blocks(digest, translator, language or digest.language))


def render_html(digest: Digest, translator: Translator, language: str | None = None) -> str:
    language = language or digest.language
    title = translator.gettext(language, N_("Weekly digest for {name}"), name=digest.coordinator_name)
    return to_html(_blocks(digest, translator, language), title, language)


async def digest_message(
    store: Store,
    coordinator_id: str,
    now: datetime,
    translator: Translator,
    link: tuple[str, Claim] | None = None,
) -> Outgoing:
    """The digest as a chat message to the coordinator, in their language; with `link` (a web
    view address and its claim, which says until when it is valid), the link at its end."""
    digest = await build_digest(store, coordinator_id, now)
    text, markdown = render_text(digest, translator), render_markdown(digest, translator)
    if link is not None:
        url, claim = link
        until = format_day(digest.language, claim.expires_at.astimezone(ZoneInfo(digest.timezone)).date())

        def line(address: str) -> str:
            return translator.gettext(digest.language, WEB_LINK, url=address, date=until)

        # In Markdown an autolink, so that the token's characters are not read as emphasis.
        text, markdown = f"{text}\n{line(url)}\n", f"{markdown}\n{line(f'<{url}>')}\n"
    return Outgoing(
        person_id=coordinator_id, kind="digest", language=digest.language, text=text, markdown=markdown
    )


WEB_LINK = N_("Your web view, with what needs attention (the link is valid until {date}): {url}")
