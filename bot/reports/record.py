"""The learning record: what a participant's exchange was and what they learned, as they chose to
show it, for a document of one or two pages (`bot.reports.record_pdf` prints it).

It holds the programme, the host and home organisations, the dates, each learning goal with the
person's three ratings (welcome, midpoint, final), the panels they presented at, and the items
they reviewed: reflections, aha moments, and what they applied after their return. Each item
is numbered the way `record` lists it in the chat; the participant includes or leaves out each
one (`bot.record_review`), and a coordinator of theirs approves the record (`approve_record`).

Texts are bounded so the document stays within two pages: an item is cut at ITEM_LENGTH
characters, and only the first included items of each section are printed (the document says
how many more there are).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, Translator, format_day
from bot.reports.common import short
from bot.reports.digest import KIND_LABELS
from storage import audit
from storage.db import Store
from storage.models import (
    AhaMoment,
    Answer,
    AuditKind,
    Conversation,
    Organisation,
    Panel,
    PanelPresenter,
    Partnership,
    Person,
    Programme,
    Question,
)
from storage.people import coordinates, goals_of
from storage.records import approval_of, approve, choices_of, set_choices

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
MOMENTS = ("welcome", "midpoint", "final")
# What the document prints of each item, and of each section, to keep within two pages.
ITEM_LENGTH = 400
SHOWN = {"reflection": 8, "aha": 5, "applied": 4}
# The reflections a record offers: what a person wrote about their exchange (not their ratings'
# one-line reasons, not what they asked their coordinator for support).
REFLECTION_KEYS = ("observations", "learning", "achievements", "next_steps", "opportunities", "adopt")
APPLIED_KEYS = ("applied_what", "shared_home")
SECTIONS = ("reflection", "aha", "applied")
AHA_LABELS = {**KIND_LABELS, "discussion": N_("Question for the discussion"), "pairing": N_("From pairing")}


class NoRecord(LookupError):
    """No participant by that id (or they were forgotten)."""


class NotTheirCoordinator(Exception):
    """The coordinator named is not one of the person's (a PermissionError would be an OSError)."""



@dataclass(frozen=True)
class RecordItem:
    number: int  # as `record` lists it, counted from 1
    kind: str  # answer | aha (storage.records' item kind)
    id: int
    section: str  # reflection | aha | applied
    label: str  # the question as it was asked, or the kind of moment (a message id)
    text: str
    included: bool

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


@dataclass(frozen=True)
class GoalRatings:
    text: str
    ratings: tuple[int | None, ...]  # in MOMENTS order


@dataclass(frozen=True)
class PanelShown:
    title: str
    day: date
    place: str


@dataclass(frozen=True)
class LearningRecord:
    person_id: str
    name: str
    language: str
    programme: str
    partnership: str
    host: str
    home: str
    start: date | None
    end: date | None
    goals: tuple[GoalRatings, ...]
    items: tuple[RecordItem, ...]
    panels: tuple[PanelShown, ...]
    approved_by: str | None = None
    approved_at: datetime | None = None
    timezone: str = "UTC"

    @property
    def approved(self) -> bool:
        return self.approved_at is not None

    @property
    def approved_day(self) -> date | None:
        """The day it was approved, in the person's own time zone."""
        return self.approved_at.astimezone(ZoneInfo(self.timezone)).date() if self.approved_at else None

    def section(self, name: str) -> list[RecordItem]:
        return [i for i in self.items if i.section == name]


def _score(answer: Answer) -> int | None:
    raw = (answer.values or [answer.text])[0]
    try:
        score = int(raw)
    except (TypeError, ValueError):
        return None
    return score if 1 <= score <= 5 else None


async def _participant(session: AsyncSession, person_id: str) -> Person:
    person = await session.get(Person, person_id)
    if person is None or person.forgotten or person.role != "participant":
        raise NoRecord(person_id)
    return person


async def gather_record(session: AsyncSession, person_id: str) -> LearningRecord:
    person = await _participant(session, person_id)
    programme = await session.get(Programme, person.programme_id)
    assert programme is not None
    partnership = await session.get(Partnership, person.partnership_id) if person.partnership_id else None
    host = await session.get(Organisation, person.host_organisation_id) if person.host_organisation_id else None
    home = await session.get(Organisation, person.home_organisation_id) if person.home_organisation_id else None
    goals = await goals_of(session, person.id)
    rows = (
        await session.exec(
            select(Answer, Question, Conversation)
            .join(Question, col(Question.id) == Answer.question_id)
            .join(Conversation, col(Conversation.id) == Question.conversation_id)
            .where(Answer.person_id == person.id)
            .order_by(col(Answer.answered_at), col(Answer.id))
        )
    ).all()
    ratings: dict[tuple[str, str], int] = {}
    reflections: list[tuple[int, str, str]] = []
    applied: list[tuple[int, str, str]] = []
    follow_up_questions: set[int] = set()
    for answer, question, conv in rows:
        assert answer.id is not None and question.id is not None
        if conv.flow == "follow-up":
            follow_up_questions.add(question.id)
        if question.key == "goal_progress" and question.goal_id and conv.flow in MOMENTS:
            score = _score(answer)
            if score is not None:
                ratings[(question.goal_id, conv.flow)] = score  # the latest counts
        elif question.key in REFLECTION_KEYS or question.key.startswith("outcome_"):
            if conv.flow in ("midpoint", "final") and answer.text.strip():
                reflections.append((answer.id, question.text, answer.text))
        elif question.key in APPLIED_KEYS and conv.flow == "follow-up" and answer.text.strip():
            applied.append((answer.id, question.text, answer.text))
    moments = (
        await session.exec(select(AhaMoment).where(AhaMoment.person_id == person.id).order_by(col(AhaMoment.id)))
    ).all()
    choices = await choices_of(session, person.id)
    items: list[RecordItem] = []

    def add(kind: str, item_id: int, section: str, label: str, text: str) -> None:
        included = choices.get((kind, item_id), True)
        items.append(RecordItem(len(items) + 1, kind, item_id, section, label, text, included))

    for answer_id, label, text in reflections:
        add("answer", answer_id, "reflection", label, text)
    for moment in moments:
        if moment.question_id in follow_up_questions or not moment.text.strip():
            continue  # what was applied at home is listed with the follow-up's answers
        assert moment.id is not None
        add("aha", moment.id, "aha", AHA_LABELS.get(moment.kind, AHA_LABELS["aha"]), moment.text)
    for answer_id, label, text in applied:
        add("answer", answer_id, "applied", label, text)
    panels = (
        await session.exec(
            select(Panel)
            .join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
            .where(PanelPresenter.person_id == person.id)
            .order_by(col(Panel.at))
        )
    ).all()
    approval = await approval_of(session, person.id)
    approver = await session.get(Person, approval.approved_by) if approval else None
    return LearningRecord(
        person_id=person.id,
        name=person.name,
        language=person.language or programme.language,
        programme=programme.name,
        partnership=partnership.name if partnership else "",
        host=host.name if host else "",
        home=home.name if home else "",
        start=person.start,
        end=person.end,
        goals=tuple(GoalRatings(g.text, tuple(ratings.get((g.id, m)) for m in MOMENTS)) for g in goals),
        items=tuple(items),
        panels=tuple(
            PanelShown(p.title, p.at.astimezone(ZoneInfo(p.timezone)).date(), p.place) for p in panels
        ),
        approved_by=approver.name if approver else None,
        approved_at=approval.approved_at if approval else None,
        timezone=person.timezone or programme.timezone,
    )


async def build_record(store: Store, person_id: str) -> LearningRecord:
    async with store.reading() as session:
        record = await gather_record(session, person_id)
    logger.info(
        "learning record for %s: %d items, %d included, %s",
        person_id,
        len(record.items),
        sum(1 for i in record.items if i.included),
        "approved" if record.approved else "draft",
    )
    return record


async def choose(
    session: AsyncSession, person_id: str, numbers: list[int] | None, included: bool, now: datetime
) -> tuple[LearningRecord, int]:
    """Include or leave out the items with these numbers (None: every item); the record as it is
    then, and how many items changed."""
    record = await gather_record(session, person_id)
    chosen = [i.key for i in record.items if numbers is None or i.number in numbers]
    changed = await set_choices(session, person_id, chosen, included, now)
    logger.info("record choices of %s: %d items %s", person_id, changed, "in" if included else "out")
    return await gather_record(session, person_id), changed


async def approve_record(store: Store, person_id: str, coordinator_id: str, now: datetime, actor: str) -> LearningRecord:
    """A coordinator of the person's partnership approves the record as it stands; the audit log
    says who, when and how many items it held."""
    async with store.session() as session:
        person = await _participant(session, person_id)
        coordinator = await session.get(Person, coordinator_id)
        if coordinator is None or not coordinator.in_programme or not await coordinates(
            session, coordinator, person.partnership_id
        ):
            raise NotTheirCoordinator(coordinator_id)
        record = await gather_record(session, person_id)
        await approve(session, person_id, coordinator_id, now)
        await audit.record(
            session,
            AuditKind.RECORD_APPROVAL,
            actor=actor,
            person_id=person_id,
            detail={
                "coordinator": coordinator_id,
                "items": len(record.items),
                "included": sum(1 for i in record.items if i.included),
            },
        )
        approved = await gather_record(session, person_id)
    logger.info("learning record of %s approved by %s", person_id, coordinator_id)
    return approved


# -- the document ------------------------------------------------------------------------------
RATING_NAMES = (N_("Welcome"), N_("Midpoint"), N_("Final"))


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_record_html(record: LearningRecord, translator: Translator, language: str | None = None) -> str:
    """The record as one self-contained HTML page (fonts named, nothing fetched), for WeasyPrint."""
    lang = language or record.language

    def t(message: str, **values: object) -> str:
        return translator.gettext(lang, message, **values)

    def day(value: date | None) -> str:
        return format_day(lang, value) if value else "–"

    sections = []
    for name, title in zip(
        SECTIONS,
        (N_("Reflections"), N_("Aha moments and takeaways"), N_("Applied after return")),
        strict=True,
    ):
        included = [i for i in record.section(name) if i.included]
        shown = included[: SHOWN[name]]
        sections.append(
            {
                "title": title,
                "items": [
                    {"label": short(t(i.label) if i.kind == "aha" else i.label, 160), "text": short(i.text, ITEM_LENGTH)}
                    for i in shown
                ],
                "more": len(included) - len(shown),
            }
        )
    return _environment().get_template("record.html").render(
        N_=t,
        day=day,
        lang=lang,
        record=record,
        sections=sections,
        rating_names=RATING_NAMES,
        item_length=ITEM_LENGTH,
        cut=any(len(i.text) > ITEM_LENGTH for i in record.items if i.included),
    )
