"""What the outcome report counts, counted by the database: each query groups the answers it
needs, so the report reads a few hundred rows however many answers are stored (a year of 10,000
participants holds about a million).

Every query covers the participants of one programme (optionally of some partnerships) who were
not forgotten; `bot.reports.outcomes` turns the counts into the report's figures.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, cast, func, true
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Conversation, ConversationStatus, Person

# The quotes of what home organisations should adopt, shown per organisation; the rest are counted.
ADOPTIONS_SHOWN = 20


@dataclass(frozen=True)
class Scope:
    programme_id: str
    partnership_ids: Collection[str] | None = None

    def people(self) -> Any:
        """The conditions on `Person` for the participants this report covers."""
        return and_(
            col(Person.programme_id) == self.programme_id,
            col(Person.role) == "participant",
            col(Person.forgotten) == False,  # noqa: E712
            col(Person.partnership_id).in_(list(self.partnership_ids))
            if self.partnership_ids is not None
            else true(),
        )


def _answers(scope: Scope, key: str, *flows: str) -> Any:
    """Answers to the question `key` in conversations of `flows`, joined to who gave them (each
    answer carries its question's key and its conversation's flow)."""
    return (
        select_columns()
        .select_from(Answer)
        .join(Person, col(Person.id) == Answer.person_id)
        .where(col(Answer.key) == key, col(Answer.flow).in_(flows), scope.people())
    )


def _values(column: Any) -> Any:
    # As text, which both databases can group by (PostgreSQL's json type cannot be compared).
    return cast(column, String)


def decoded(values: str | None) -> list[str] | None:
    if not values:
        return None
    found = _decoded(values)
    return None if found is None else list(found)


@functools.lru_cache(maxsize=4096)
def _decoded(values: str) -> tuple[str, ...] | None:
    # The same few option lists come back in thousands of rows (a rating of 1 to 5 per goal).
    found = json.loads(values)
    return None if found is None else tuple(found)


async def participants(session: AsyncSession, scope: Scope) -> int:
    return int((await session.exec(select(func.count()).select_from(Person).where(scope.people()))).one())


async def reported(session: AsyncSession, scope: Scope) -> list[tuple[str | None, list[str], int]]:
    """(partnership, outcomes chosen, how many participants chose exactly those) from the final
    reflection's outcome question."""
    values = _values(Answer.values)
    query = (
        _answers(scope, "outcomes", "final")
        .add_columns(Person.partnership_id, values, func.count(func.distinct(Answer.person_id)))
        .group_by(Person.partnership_id, values)
    )
    return [(p, decoded(v) or [], n) for p, v, n in await _rows(session, query)]


async def ratings(
    session: AsyncSession, scope: Scope, moments: tuple[str, ...]
) -> list[tuple[str, str, str, list[str] | None, int]]:
    """(goal, moment, text, values, how many) of the learning-goal ratings at `moments`."""
    values = _values(Answer.values)
    query = (
        _answers(scope, "goal_progress", *moments)
        .add_columns(Answer.goal_id, Answer.flow, Answer.text, values, func.count())
        .where(col(Answer.goal_id).is_not(None))
        .group_by(Answer.goal_id, Answer.flow, Answer.text, values)
    )
    return [(g, f, t, decoded(v), n) for g, f, t, v, n in await _rows(session, query)]


async def rating_changes(
    session: AsyncSession, scope: Scope, before: str, after: str
) -> list[tuple[str, tuple[str, list[str] | None], tuple[str, list[str] | None], int]]:
    """(goal, the rating at `before`, the rating at `after`, how many participants gave that
    pair) for participants who rated a goal at both moments."""
    values = _values(Answer.values)

    def at(flow: str, column: Any) -> Any:
        return func.max(case((col(Answer.flow) == flow, column)))

    # One pass over both moments' ratings, a row per person and goal (a self-join of the two
    # moments' answers would read them twice, and PostgreSQL plans it badly).
    per_person = (
        _answers(scope, "goal_progress", before, after)
        .add_columns(
            col(Answer.goal_id).label("goal_id"),
            at(before, Answer.text).label("text1"),
            at(before, values).label("vals1"),
            at(after, Answer.text).label("text2"),
            at(after, values).label("vals2"),
        )
        .where(col(Answer.goal_id).is_not(None))
        .group_by(Answer.person_id, Answer.goal_id)
        .subquery()
    )
    c = per_person.c
    query = (
        select_columns(c.goal_id, c.text1, c.vals1, c.text2, c.vals2, func.count())
        .where(c.text1.is_not(None), c.text2.is_not(None))
        .group_by(c.goal_id, c.text1, c.vals1, c.text2, c.vals2)
    )
    rows = await _rows(session, query)
    return [(g, (t1, decoded(v1)), (t2, decoded(v2)), n) for g, t1, v1, t2, v2, n in rows]


async def applied(session: AsyncSession, scope: Scope) -> list[tuple[int, str | None, list[str] | None, int]]:
    """(months after the exchange, partnership, the answer's values, how many participants) of the
    follow-ups' question whether they applied something at home."""
    months = col(Conversation.context)["months"].as_integer()
    values = _values(Answer.values)
    query = (
        _answers(scope, "applied", "follow-up")
        .join(Conversation, col(Conversation.id) == Answer.conversation_id)
        .add_columns(months, Person.partnership_id, values, func.count(func.distinct(Answer.person_id)))
        .where(months.is_not(None))
        .group_by(months, Person.partnership_id, values)
    )
    return [(int(m), p, decoded(v), n) for m, p, v, n in await _rows(session, query)]


async def adoptions(
    session: AsyncSession, scope: Scope
) -> tuple[list[tuple[str | None, str]], dict[str | None, int]]:
    """The first ADOPTIONS_SHOWN answers per home organisation to what it should adopt (home
    organisation, text), and how many there are per home organisation in all."""
    ranked = (
        _answers(scope, "adopt", "final")
        .add_columns(
            col(Person.home_organisation_id).label("home"),
            col(Answer.text).label("text"),
            col(Answer.id).label("id"),
            func.row_number()
            .over(partition_by=Person.home_organisation_id, order_by=col(Answer.id))
            .label("rank"),
            func.count().over(partition_by=Person.home_organisation_id).label("total"),
        )
        .where(func.trim(Answer.text) != "")
        .subquery()
    )
    # Every home organisation with an answer has a first one shown, which carries its total.
    shown = await _rows(
        session,
        select_columns(ranked.c.home, ranked.c.text, ranked.c.total)
        .where(ranked.c.rank <= ADOPTIONS_SHOWN)
        .order_by(ranked.c.id),
    )
    return [(h, t) for h, t, _ in shown], {h: int(n) for h, _, n in shown}


@dataclass(frozen=True)
class FlowCounts:
    started: int  # participants it was started for
    answered: int  # of them, who answered at least one question
    completed: int


async def responses(session: AsyncSession, scope: Scope) -> dict[str, FlowCounts]:
    """Per reflection: participants it was started for, who answered any of it, who completed it."""
    # A row per person and reflection first (a person may have had several, e.g. follow-ups),
    # then counted: one sort of the conversations instead of one per distinct count.
    per_person = (
        select_columns(
            col(Conversation.flow).label("flow"),
            func.max(case((col(Conversation.answered), 1), else_=0)).label("answered"),
            func.max(case((col(Conversation.status) == ConversationStatus.DONE, 1), else_=0)).label("done"),
        )
        .join(Person, col(Person.id) == Conversation.person_id)
        .where(col(Conversation.started_at).is_not(None), scope.people())
        .group_by(Conversation.flow, Conversation.person_id)
        .subquery()
    )
    c = per_person.c
    rows = await _rows(
        session, select_columns(c.flow, func.count(), func.sum(c.answered), func.sum(c.done)).group_by(c.flow)
    )
    return {flow: FlowCounts(int(s), int(a), int(d)) for flow, s, a, d in rows}


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    """The rows of a counting query, through Core: the ORM's handling of result rows cost as
    much as the database's counting of a million answers."""
    return list((await (await session.connection()).execute(query)).all())
