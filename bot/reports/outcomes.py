"""The learning-outcome report for a programme, from the final reflections (and response rates of
every reflection), with a bar chart drawn from the same numbers.

Definitions, also printed in the report:
- share of participants reporting an outcome: participants who chose it in the final reflection's
  `outcomes` question, of the participants who answered that question;
- share of partnerships: partnerships where at least one participant chose it, of the partnerships
  with at least one participant who answered that question;
- progress per learning goal: mean and count of the `goal_progress` answers (1 = not at all,
  5 = fully) for that goal;
- response rate of a reflection: participants who answered at least one of its questions, of the
  participants it was started for.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal
from sqlmodel import col, select

from bot.flows import FLOWS, OUTCOME_LABELS
from bot.i18n import N_, Translator, _locale, format_day
from bot.reports.common import percent
from bot.reports.document import (
    Block,
    Bullets,
    Heading,
    Image,
    Paragraph,
    Table,
    to_html,
    to_markdown,
    to_text,
)
from storage.db import Store
from storage.models import (
    Answer,
    Conversation,
    LearningGoal,
    Organisation,
    Partnership,
    Person,
    Programme,
    Question,
)

logger = logging.getLogger(__name__)

OUTCOMES = tuple(OUTCOME_LABELS)
REFLECTIONS = ("midpoint", "panel-prep", "final")


class NoProgramme(LookupError):
    pass


@dataclass(frozen=True)
class OutcomeShare:
    outcome: str
    participants: int
    participants_of: int
    partnerships: int
    partnerships_of: int

    @property
    def participant_share(self) -> float:
        return self.participants / self.participants_of if self.participants_of else 0.0

    @property
    def partnership_share(self) -> float:
        return self.partnerships / self.partnerships_of if self.partnerships_of else 0.0


@dataclass(frozen=True)
class GoalProgress:
    goal_id: str
    text: str
    partnership: str
    count: int
    mean: float | None


@dataclass(frozen=True)
class Adoption:
    organisation: str  # the participants' home organisation
    texts: tuple[str, ...]


@dataclass(frozen=True)
class ResponseRate:
    flow: str
    asked: int
    answered: int
    completed: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class Outcomes:
    programme: str
    language: str  # the programme's, the default for the report
    participants: int
    respondents: int  # participants who answered the outcome question
    partnerships_responding: int
    shares: tuple[OutcomeShare, ...]
    goals: tuple[GoalProgress, ...]
    adoptions: tuple[Adoption, ...]
    response_rates: tuple[ResponseRate, ...]


async def build_outcomes(store: Store, programme_id: str | None = None) -> Outcomes:
    async with store.session() as session:
        query = select(Programme).order_by(col(Programme.id))
        if programme_id is not None:
            query = query.where(Programme.id == programme_id)
        programme = (await session.exec(query)).first()
        if programme is None:
            raise NoProgramme(programme_id or "")
        people = {
            p.id: p
            for p in (
                await session.exec(
                    select(Person).where(
                        Person.programme_id == programme.id,
                        Person.role == "participant",
                        Person.forgotten == False,  # noqa: E712
                    )
                )
            ).all()
        }
        rows = (
            await session.exec(
                select(  # type: ignore[call-overload]
                    Answer.person_id,
                    Answer.text,
                    Answer.values,
                    Question.key,
                    Question.goal_id,
                    Conversation.flow,
                )
                .join(Question, col(Answer.question_id) == Question.id)
                .join(Conversation, col(Question.conversation_id) == Conversation.id)
                .where(col(Answer.person_id).in_(list(people)))
                .order_by(col(Answer.id))
            )
        ).all()
        conversations = (
            await session.exec(
                select(Conversation).where(
                    col(Conversation.person_id).in_(list(people)), col(Conversation.started_at).is_not(None)
                )
            )
        ).all()
        partnerships = {
            p.id: p
            for p in (
                await session.exec(select(Partnership).where(Partnership.programme_id == programme.id))
            ).all()
        }
        goals = (
            await session.exec(
                select(LearningGoal)
                .where(col(LearningGoal.partnership_id).in_(list(partnerships)))
                .order_by(col(LearningGoal.partnership_id), col(LearningGoal.position))
            )
        ).all()
        organisations = {
            o.id: o.name
            for o in (
                await session.exec(select(Organisation).where(Organisation.programme_id == programme.id))
            ).all()
        }

    reported: dict[str, set[str]] = {}
    progress: dict[str, list[int]] = defaultdict(list)
    adopt: dict[str, list[str]] = defaultdict(list)
    answered_in: dict[str, set[str]] = defaultdict(set)
    for person_id, text, values, key, goal_id, flow in rows:
        answered_in[flow].add(person_id)
        if flow != "final":
            continue
        if key == "outcomes":
            reported[person_id] = {v for v in values or [] if v in OUTCOMES}
        elif key == "goal_progress" and goal_id:
            score = _score(text, values)
            if score is not None:
                progress[goal_id].append(score)
        elif key == "adopt" and text.strip():
            home = people[person_id].home_organisation_id
            adopt[organisations.get(home or "", "")].append(text)

    responding_partnerships = {people[p].partnership_id for p in reported if people[p].partnership_id}
    shares = []
    for outcome in OUTCOMES:
        who = [p for p, chosen in reported.items() if outcome in chosen]
        shares.append(
            OutcomeShare(
                outcome=outcome,
                participants=len(who),
                participants_of=len(reported),
                partnerships=len({people[p].partnership_id for p in who} & responding_partnerships),
                partnerships_of=len(responding_partnerships),
            )
        )
    started: dict[str, set[str]] = defaultdict(set)
    completed: dict[str, set[str]] = defaultdict(set)
    for conv in conversations:
        started[conv.flow].add(conv.person_id)
        if conv.status == "done":
            completed[conv.flow].add(conv.person_id)
    rates = tuple(
        ResponseRate(
            flow,
            asked=len(started[flow]),
            answered=len(answered_in[flow] & started[flow]),
            completed=len(completed[flow]),
        )
        for flow in REFLECTIONS
    )
    goal_rows = tuple(
        GoalProgress(
            goal_id=g.id,
            text=g.text,
            partnership=partnerships[g.partnership_id].name,
            count=len(progress[g.id]),
            mean=sum(progress[g.id]) / len(progress[g.id]) if progress[g.id] else None,
        )
        for g in goals
    )
    logger.info("outcomes for %s: %d participants, %d respondents", programme.id, len(people), len(reported))
    return Outcomes(
        programme=programme.name,
        language=programme.language,
        participants=len(people),
        respondents=len(reported),
        partnerships_responding=len(responding_partnerships),
        shares=tuple(shares),
        goals=goal_rows,
        adoptions=tuple(Adoption(org, tuple(texts)) for org, texts in sorted(adopt.items())),
        response_rates=rates,
    )


def _score(text: str, values: list[str] | None) -> int | None:
    raw = (values or [text])[0]
    try:
        score = int(raw)
    except (TypeError, ValueError):
        return None
    return score if 1 <= score <= 5 else None


def _blocks(
    outcomes: Outcomes,
    translator: Translator,
    language: str,
    today: datetime | None,
    chart: bytes | None,
    chart_path: str | None,
) -> list[Block]:
    def t(message: str, **values: object) -> str:
        return translator.gettext(language, message, **values)

    def decimal(value: float) -> str:
        return format_decimal(value, format="0.0", locale=_locale(language))

    title = t(N_("Learning outcomes: {programme}"), programme=outcomes.programme)
    blocks: list[Block] = [Heading(title, 1)]
    if today is not None:
        blocks.append(Paragraph(format_day(language, today.date()), note=True))

    blocks.append(Heading(t(N_("Outcomes reported")), 2))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Of the {respondents} participants who answered the final reflection's outcome question, "
                    "and of their {partnerships} partnerships (a partnership counts when at least one of its "
                    "participants reports the outcome)."
                ),
                respondents=outcomes.respondents,
                partnerships=outcomes.partnerships_responding,
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (
                t(N_("Outcome")),
                t(N_("Participants")),
                t(N_("Share of participants")),
                t(N_("Partnerships")),
                t(N_("Share of partnerships")),
            ),
            tuple(
                (
                    t(OUTCOME_LABELS[s.outcome]),
                    str(s.participants),
                    percent(language, s.participant_share, 1),
                    str(s.partnerships),
                    percent(language, s.partnership_share, 1),
                )
                for s in outcomes.shares
            ),
            numeric=(1, 2, 3, 4),
        )
    )

    blocks.append(Heading(t(N_("Progress per learning goal")), 2))
    blocks.append(Paragraph(t(N_("Mean of the answers from 1 (not at all) to 5 (fully).")), note=True))
    blocks.append(
        Table(
            (t(N_("Learning goal")), t(N_("Partnership")), t(N_("Mean")), t(N_("Answers"))),
            tuple(
                (g.text, g.partnership, decimal(g.mean) if g.mean is not None else "–", str(g.count))
                for g in outcomes.goals
            ),
            numeric=(2, 3),
        )
    )

    blocks.append(Heading(t(N_("What home organisations should adopt")), 2))
    if outcomes.adoptions:
        for adoption in outcomes.adoptions:
            blocks.append(Heading(adoption.organisation, 3))
            blocks.append(Bullets(tuple(f"“{text}”" for text in adoption.texts)))
    else:
        blocks.append(Paragraph(t(N_("No answers yet.")), note=True))

    blocks.append(Heading(t(N_("Response rates")), 2))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Response rate: participants who answered at least one question of a reflection, of the participants it was started for."
                )
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (
                t(N_("Reflection")),
                t(N_("Started")),
                t(N_("Answered")),
                t(N_("Completed")),
                t(N_("Response rate")),
            ),
            tuple(
                (
                    t(FLOWS[r.flow].title),
                    str(r.asked),
                    str(r.answered),
                    str(r.completed),
                    percent(language, r.rate, 1) if r.rate is not None else "–",
                )
                for r in outcomes.response_rates
            ),
            numeric=(1, 2, 3, 4),
        )
    )
    if chart is not None:
        blocks.append(
            Image(
                chart, t(N_("Chart of the outcomes reported and the progress per learning goal")), chart_path
            )
        )
    return blocks


def render_text(
    outcomes: Outcomes, translator: Translator, language: str | None = None, today: datetime | None = None
) -> str:
    return to_text(_blocks(outcomes, translator, language or outcomes.language, today, None, None))


def render_markdown(
    outcomes: Outcomes,
    translator: Translator,
    language: str | None = None,
    today: datetime | None = None,
    chart_path: str | None = None,
) -> str:
    """Markdown cannot embed the chart: with `chart_path` it links to the PNG written there."""
    language = language or outcomes.language
    return to_markdown(
        _blocks(outcomes, translator, language, today, b"" if chart_path else None, chart_path)
    )


def render_html(
    outcomes: Outcomes, translator: Translator, language: str | None = None, today: datetime | None = None
) -> str:
    """One self-contained file: the chart is embedded as a data: URI."""
    language = language or outcomes.language
    from bot.reports.chart import chart_png, outcome_chart

    png = chart_png(outcome_chart(outcomes, translator, language))
    title = translator.gettext(language, N_("Learning outcomes: {programme}"), programme=outcomes.programme)
    return to_html(_blocks(outcomes, translator, language, today, png, None), title, language)
