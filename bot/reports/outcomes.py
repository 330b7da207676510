"""The learning outcomes of a programme, as plain numbers, from the final reflections (and the
response rates of every reflection). `bot.reports.outcome_report` lays them out as the report and
`bot.reports.chart` draws them; both read the same numbers from here.

Definitions, also printed in the report:
- share of participants reporting an outcome: participants who chose it in the final reflection's
  `outcomes` question, of the participants who answered that question;
- share of partnerships: partnerships where at least one participant chose it, of the partnerships
  with at least one participant who answered that question;
- progress per learning goal: mean and count of the final reflection's `goal_progress` answers
  (1 = just starting, 5 = fully there) for that goal;
- the learning journey per learning goal: of the participants who rated the goal both at the
  welcome (the baseline) and in the final reflection (the end), the share whose rating rose, and
  the median of end minus baseline;
- ratings at three moments per learning goal: the mean and count of the `goal_progress` answers for
  that goal at the welcome, the midpoint and the final reflection (each over whoever rated it then);
- applied at home: of the participants of a partnership who answered the N-month follow-up's
  question whether they have applied something from their exchange, the share who said yes;
- response rate of a reflection: participants who answered at least one of its questions, of the
  participants it was started for.
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import true
from sqlmodel import col, select

from bot.flows import OUTCOME_LABELS
from bot.plan import follow_up_months
from bot.reports.pairing_report import OutcomePairs, outcome_pairs
from storage.db import Store
from storage.models import (
    Answer,
    Conversation,
    ConversationStatus,
    LearningGoal,
    Organisation,
    Partnership,
    Person,
    Programme,
    Question,
)

logger = logging.getLogger(__name__)

OUTCOMES = tuple(OUTCOME_LABELS)
REFLECTIONS = ("welcome", "midpoint", "panel-prep", "final", "follow-up")


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
class GoalJourney:
    goal_id: str
    text: str
    partnership: str
    rated: int  # participants with a baseline and an end rating of the goal
    rose: int
    median_change: float | None

    @property
    def share_rose(self) -> float | None:
        return self.rose / self.rated if self.rated else None


MOMENTS = ("welcome", "midpoint", "final")


@dataclass(frozen=True)
class GoalRatings:
    """Where participants stood on a learning goal at the welcome, the midpoint and the end."""

    goal_id: str
    text: str
    partnership: str
    means: tuple[float | None, ...]  # in MOMENTS order; None where no one rated it then
    counts: tuple[int, ...]


@dataclass(frozen=True)
class AppliedAtHome:
    partnership: str | None  # None: every partnership of the report
    months: int
    answered: int
    applied: int

    @property
    def share(self) -> float | None:
        return self.applied / self.answered if self.answered else None


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
    pairing: OutcomePairs = field(default_factory=OutcomePairs)
    journeys: tuple[GoalJourney, ...] = ()
    applied_at_home: tuple[AppliedAtHome, ...] = ()
    ratings: tuple[GoalRatings, ...] = ()


async def build_outcomes(
    store: Store, programme_id: str | None = None, partnership_ids: Collection[str] | None = None
) -> Outcomes:
    """The programme's outcomes; with `partnership_ids`, of those partnerships' participants only
    (a coordinator's web view)."""
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
                        col(Person.partnership_id).in_(partnership_ids)
                        if partnership_ids is not None
                        else true(),
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
                    Conversation.context,
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
                await session.exec(
                    select(Partnership).where(
                        Partnership.programme_id == programme.id,
                        col(Partnership.id).in_(partnership_ids) if partnership_ids is not None else true(),
                    )
                )
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
        pairing = await outcome_pairs(session, programme.id, partnership_ids)

    reported: dict[str, set[str]] = {}
    progress: dict[str, list[int]] = defaultdict(list)
    adopt: dict[str, list[str]] = defaultdict(list)
    answered_in: dict[str, set[str]] = defaultdict(set)
    # (person, goal) → rating, at the welcome and at the end.
    baseline: dict[tuple[str, str], int] = {}
    end: dict[tuple[str, str], int] = {}
    # (goal, moment) → every rating given then.
    at_moment: dict[tuple[str, str], list[int]] = defaultdict(list)
    # months → person → whether they have applied something at home.
    applied: dict[int, dict[str, bool]] = defaultdict(dict)
    for person_id, text, values, key, goal_id, flow, context in rows:
        answered_in[flow].add(person_id)
        if key == "goal_progress" and goal_id and flow in MOMENTS:
            score = _score(text, values)
            if score is not None:
                at_moment[(goal_id, flow)].append(score)
                if flow != "midpoint":
                    (baseline if flow == "welcome" else end)[(person_id, goal_id)] = score
        if flow == "follow-up" and key == "applied" and "months" in (context or {}):
            applied[int((context or {})["months"])][person_id] = "yes" in (values or [])
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
        if conv.status == ConversationStatus.DONE:
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
    journeys = []
    for g in goals:
        changes = [
            end[(person, goal)] - before
            for (person, goal), before in baseline.items()
            if goal == g.id and (person, goal) in end
        ]
        journeys.append(
            GoalJourney(
                goal_id=g.id,
                text=g.text,
                partnership=partnerships[g.partnership_id].name,
                rated=len(changes),
                rose=sum(1 for c in changes if c > 0),
                median_change=float(statistics.median(changes)) if changes else None,
            )
        )
    ratings = tuple(
        GoalRatings(
            goal_id=g.id,
            text=g.text,
            partnership=partnerships[g.partnership_id].name,
            means=tuple(
                statistics.fmean(at_moment[(g.id, m)]) if at_moment[(g.id, m)] else None for m in MOMENTS
            ),
            counts=tuple(len(at_moment[(g.id, m)]) for m in MOMENTS),
        )
        for g in goals
    )
    applied_rows = []
    for months in sorted({*follow_up_months(programme), *applied}):
        said = applied.get(months, {})
        for partnership_id, partnership in [*partnerships.items(), (None, None)]:
            who = [p for p in said if partnership_id is None or people[p].partnership_id == partnership_id]
            applied_rows.append(
                AppliedAtHome(
                    partnership=partnership.name if partnership else None,
                    months=months,
                    answered=len(who),
                    applied=sum(1 for p in who if said[p]),
                )
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
        pairing=pairing,
        journeys=tuple(journeys),
        applied_at_home=tuple(applied_rows),
        ratings=ratings,
    )


def _score(text: str, values: list[str] | None) -> int | None:
    raw = (values or [text])[0]
    try:
        score = int(raw)
    except (TypeError, ValueError):
        return None
    return score if 1 <= score <= 5 else None
