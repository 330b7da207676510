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
from bot.reports import outcome_counts as counts
from bot.reports.outcome_counts import Scope
from bot.reports.pairing_report import OutcomePairs, outcome_pairs
from storage.db import Store
from storage.models import (
    LearningGoal,
    Organisation,
    Partnership,
    Programme,
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
    texts: tuple[str, ...]  # the first ADOPTIONS_SHOWN
    more: int = 0  # answers beyond those shown


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
    (a coordinator's web view). The database counts (`bot.reports.outcome_counts`); this adds up."""
    async with store.reading() as session:
        query = select(Programme).order_by(col(Programme.id))
        if programme_id is not None:
            query = query.where(Programme.id == programme_id)
        programme = (await session.exec(query)).first()
        if programme is None:
            raise NoProgramme(programme_id or "")
        scope = Scope(programme.id, partnership_ids)
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
        people = await counts.participants(session, scope)
        chosen = await counts.reported(session, scope)
        rated = await counts.ratings(session, scope, MOMENTS)
        changes = await counts.rating_changes(session, scope, "welcome", "final")
        applied = await counts.applied(session, scope)
        adopted, adopted_in_all = await counts.adoptions(session, scope)
        responded = await counts.responses(session, scope)
        pairing = await outcome_pairs(session, programme.id, partnership_ids)

    shares = _shares(chosen)
    respondents = sum(n for _p, _c, n in chosen)
    responding_partnerships = {p for p, _c, n in chosen if p and n}
    rates = tuple(
        ResponseRate(flow, asked=c.started, answered=c.answered, completed=c.completed)
        for flow in REFLECTIONS
        for c in [responded.get(flow, counts.FlowCounts(0, 0, 0))]
    )
    at_moment: dict[tuple[str, str], list[int]] = defaultdict(list)
    for goal_id, flow, text, values, n in rated:
        score = _score(text, values)
        if score is not None:
            at_moment[(goal_id, flow)].extend([score] * n)
    progress = {g.id: at_moment.get((g.id, "final"), []) for g in goals}
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
    change_of: dict[str, list[int]] = defaultdict(list)
    for goal_id, before, after, n in changes:
        first, last = _score(*before), _score(*after)
        if first is not None and last is not None:
            change_of[goal_id].extend([last - first] * n)
    journeys = tuple(
        GoalJourney(
            goal_id=g.id,
            text=g.text,
            partnership=partnerships[g.partnership_id].name,
            rated=len(change_of[g.id]),
            rose=sum(1 for c in change_of[g.id] if c > 0),
            median_change=float(statistics.median(change_of[g.id])) if change_of[g.id] else None,
        )
        for g in goals
    )
    ratings = tuple(
        GoalRatings(
            goal_id=g.id,
            text=g.text,
            partnership=partnerships[g.partnership_id].name,
            means=tuple(
                statistics.fmean(at_moment[(g.id, m)]) if at_moment.get((g.id, m)) else None for m in MOMENTS
            ),
            counts=tuple(len(at_moment.get((g.id, m), [])) for m in MOMENTS),
        )
        for g in goals
    )
    # months → partnership → [answered, applied]
    said: dict[int, dict[str | None, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for months, partnership_id, values, n in applied:
        said[months][partnership_id][0] += n
        said[months][partnership_id][1] += n if "yes" in (values or []) else 0
    applied_rows = []
    for months in sorted({*follow_up_months(programme), *said}):
        by_partnership = said.get(months, {})
        for partnership_id, partnership in [*partnerships.items(), (None, None)]:
            answered, yes = (
                by_partnership.get(partnership_id, [0, 0])
                if partnership_id is not None
                else [sum(v[0] for v in by_partnership.values()), sum(v[1] for v in by_partnership.values())]
            )
            applied_rows.append(
                AppliedAtHome(
                    partnership=partnership.name if partnership else None,
                    months=months,
                    answered=answered,
                    applied=yes,
                )
            )
    adopt: dict[str, list[str]] = defaultdict(list)
    more: dict[str, int] = defaultdict(int)
    for home, text in adopted:
        adopt[organisations.get(home or "", "")].append(text)
    for home, total in adopted_in_all.items():
        more[organisations.get(home or "", "")] += total
    logger.info("outcomes for %s: %d participants, %d respondents", programme.id, people, respondents)
    return Outcomes(
        programme=programme.name,
        language=programme.language,
        participants=people,
        respondents=respondents,
        partnerships_responding=len(responding_partnerships),
        shares=shares,
        goals=goal_rows,
        adoptions=tuple(
            Adoption(org, tuple(texts), more[org] - len(texts)) for org, texts in sorted(adopt.items())
        ),
        response_rates=rates,
        pairing=pairing,
        journeys=journeys,
        applied_at_home=tuple(applied_rows),
        ratings=ratings,
    )


def _shares(chosen: list[tuple[str | None, list[str], int]]) -> tuple[OutcomeShare, ...]:
    respondents = sum(n for _p, _c, n in chosen)
    responding = {p for p, _c, n in chosen if p and n}
    shares = []
    for outcome in OUTCOMES:
        who = [(p, n) for p, values, n in chosen if outcome in values]
        shares.append(
            OutcomeShare(
                outcome=outcome,
                participants=sum(n for _p, n in who),
                participants_of=respondents,
                partnerships=len({p for p, n in who if p and n} & responding),
                partnerships_of=len(responding),
            )
        )
    return tuple(shares)


def _score(text: str, values: list[str] | None) -> int | None:
    raw = (values or [text])[0]
    try:
        score = int(raw)
    except (TypeError, ValueError):
        return None
    return score if 1 <= score <= 5 else None
