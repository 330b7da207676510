"""What pairing feeds into the reports: the coordinator's digest (the pairs of the latest round,
whether they met, what they noticed) and the outcome report (pairs that met per partnership,
consented items next to the learning goal they concern).

A pair belongs to a partnership through its exchange member(s). "Met" means at least one member
answered "Yes, we met" in their check-in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, NP_
from bot.reports.common import short
from bot.reports.document import Block, Bullets, Heading, Paragraph
from storage.models import AhaMoment, Answer, Conversation, LearningGoal, Partnership, Person, Question
from storage.pairs import StoredGroup, groups_of, latest_round, rounds_of

MET_LABELS = {
    "yes": N_("met"),
    "not-yet": N_("not met yet"),
    "no": N_("did not meet"),
    None: N_("no answer yet"),
}


@dataclass(frozen=True)
class PairStatus:
    names: tuple[str, ...]
    goal: str | None
    met: str | None  # yes | not-yet | no | None (no answer yet)


@dataclass(frozen=True)
class Noticed:
    name: str
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class DigestPairs:
    pairs: tuple[PairStatus, ...] = ()
    noticed: tuple[Noticed, ...] = ()


@dataclass(frozen=True)
class PartnershipPairs:
    partnership: str
    pairs: int
    met: int


@dataclass(frozen=True)
class PairingQuote:
    goal: str  # the learning goal the pair shared ("" when none)
    name: str | None  # None: shared anonymously
    text: str


@dataclass(frozen=True)
class OutcomePairs:
    partnerships: tuple[PartnershipPairs, ...] = ()
    quotes: tuple[PairingQuote, ...] = ()


def _met(values: Iterable[str | None]) -> str | None:
    found = [v for v in values if v]
    for value in ("yes", "not-yet", "no"):
        if value in found:
            return value
    return None


async def _check_ins(session: AsyncSession, pair_ids: list[int]) -> dict[int, dict[str, dict[str, Answer]]]:
    """Each pair's check-in answers: pair id → person → question key → answer."""
    if not pair_ids:
        return {}
    keys = {f"pairing-check:{p}:" for p in pair_ids}
    rows = (
        await session.exec(
            select(Conversation, Question, Answer)
            .join(Question, col(Question.conversation_id) == Conversation.id)
            .join(Answer, col(Answer.question_id) == Question.id)
            .where(Conversation.flow == "pairing-check")
        )
    ).all()
    found: dict[int, dict[str, dict[str, Answer]]] = defaultdict(lambda: defaultdict(dict))
    for conv, question, answer in rows:
        prefix = conv.key.rsplit(":", 1)[0] + ":"
        if prefix in keys:
            pair_id = int(prefix.split(":")[1])
            found[pair_id][conv.person_id][question.key] = answer
    return found


async def digest_pairs(
    session: AsyncSession, programme_id: str, participant_ids: set[str], now: datetime, since: datetime
) -> DigestPairs:
    """The latest round's pairs with one of these participants, and what was noticed this week."""
    stored = await latest_round(session, programme_id)
    if stored is None or stored.id is None or stored.made_at > now:
        return DigestPairs()
    groups = [g for g in (await groups_of(session, [stored.id]))[stored.id] if set(g.members) & participant_ids]
    people = await _people(session, {m for g in groups for m in g.members})
    goals = await _goal_texts(session)
    answers = await _check_ins(session, [g.pair.id for g in groups if g.pair.id is not None])
    pairs, noticed = [], []
    for group in groups:
        by_person = answers.get(group.pair.id or 0, {})
        met = _met(a["met"].values[0] if a.get("met") and a["met"].values else None for a in by_person.values())
        pairs.append(
            PairStatus(
                tuple(people[m].name for m in group.members if m in people), goals.get(group.pair.goal_id or ""), met
            )
        )
        for person_id, given in by_person.items():
            answer = given.get("noticed")
            if answer is not None and answer.text.strip() and since < answer.answered_at <= now and person_id in people:
                noticed.append(Noticed(people[person_id].name, short(answer.text), answer.answered_at))
    return DigestPairs(tuple(pairs), tuple(sorted(noticed, key=lambda n: n.answered_at)))


def digest_blocks(pairs: DigestPairs, t: Callable[..., str]) -> list[Block]:
    if not pairs.pairs:
        return []
    lines = []
    for pair in pairs.pairs:
        status = t(MET_LABELS.get(pair.met, MET_LABELS[None]))
        if pair.goal:
            lines.append(
                t(N_("{names} (learning goal “{goal}”): {status}"), names=" · ".join(pair.names), goal=pair.goal, status=status)
            )
        else:
            lines.append(t(N_("{names}: {status}"), names=" · ".join(pair.names), status=status))
    blocks: list[Block] = [Heading(t(N_("Pairs this round")), 3), Bullets(tuple(lines))]
    if pairs.noticed:
        blocks.append(
            Bullets(tuple(t(N_("{name} noticed: “{text}”"), name=n.name, text=n.text) for n in pairs.noticed))
        )
    else:
        blocks.append(Paragraph(t(N_("Nothing noticed written this week.")), note=True))
    return blocks


async def outcome_pairs(
    session: AsyncSession, programme_id: str, partnership_ids: Collection[str] | None = None
) -> OutcomePairs:
    """With `partnership_ids`, only pairs with a participant of those partnerships."""
    rounds = [r.id for r in await rounds_of(session, programme_id) if r.id is not None]
    groups: list[StoredGroup] = [g for gs in (await groups_of(session, rounds)).values() for g in gs]
    people = await _people(session, {m for g in groups for m in g.members})
    if partnership_ids is not None:
        wanted = set(partnership_ids)
        groups = [g for g in groups if any(m in people and people[m].partnership_id in wanted for m in g.members)]
    partnerships = {p.id: p.name for p in (await session.exec(select(Partnership))).all()}
    goals = await _goal_texts(session)
    answers = await _check_ins(session, [g.pair.id for g in groups if g.pair.id is not None])
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group in groups:
        by_person = answers.get(group.pair.id or 0, {})
        met = _met(a["met"].values[0] if a.get("met") and a["met"].values else None for a in by_person.values())
        for partnership in {people[m].partnership_id for m in group.members if m in people and people[m].partnership_id}:
            if partnership_ids is not None and partnership not in partnership_ids:
                continue
            counts[partnership or ""][0] += 1
            counts[partnership or ""][1] += met == "yes"
    # Consented items, named or anonymous. Anonymous ones only when the programme has at least
    # three people who shared one, so that a name cannot be guessed from a pair.
    moments = (
        await session.exec(
            select(AhaMoment, Question, Conversation)
            .join(Question, col(Question.id) == AhaMoment.question_id)
            .join(Conversation, col(Conversation.id) == Question.conversation_id)
            .where(
                AhaMoment.kind == "pairing",
                col(AhaMoment.consent).in_(("named", "anonymous")),
                Conversation.flow == "pairing-check",
            )
            .order_by(col(AhaMoment.created_at), col(AhaMoment.id))
        )
    ).all()
    pair_goal = {g.pair.id: g.pair.goal_id for g in groups}
    moments = [(m, q, c) for m, q, c in moments if (c.context or {}).get("pair_id") in pair_goal]
    sharers = {m.person_id for m, _q, _c in moments if m.person_id in people}
    quotes = []
    for moment, _question, conv in moments:
        person = people.get(moment.person_id)
        if person is None or (moment.consent == "anonymous" and len(sharers) < 3):
            continue
        goal_id = pair_goal.get((conv.context or {}).get("pair_id"))
        quotes.append(
            PairingQuote(goals.get(goal_id or "", ""), person.name if moment.consent == "named" else None, moment.text)
        )
    return OutcomePairs(
        tuple(
            PartnershipPairs(partnerships.get(pid, pid), pairs, met)
            for pid, (pairs, met) in sorted(counts.items(), key=lambda kv: partnerships.get(kv[0], kv[0]))
        ),
        tuple(sorted(quotes, key=lambda q: (q.goal == "", q.goal))),
    )


def outcome_blocks(pairs: OutcomePairs, t: Callable[..., str]) -> list[Block]:
    if not pairs.partnerships:
        return []
    blocks: list[Block] = [
        Heading(t(N_("Pairing with colleagues")), 2),
        Bullets(
            tuple(
                t(
                    NP_("{partnership}: {met} of {pairs} pair met", "{partnership}: {met} of {pairs} pairs met", "pairs"),
                    partnership=p.partnership,
                    met=p.met,
                    pairs=p.pairs,
                )
                for p in pairs.partnerships
            )
        ),
    ]
    by_goal: dict[str, list[PairingQuote]] = defaultdict(list)
    for quote in pairs.quotes:
        by_goal[quote.goal].append(quote)
    for goal, quotes in by_goal.items():
        blocks.append(Heading(t(N_("Learning goal: {goal}"), goal=goal) if goal else t(N_("Other pairs")), 3))
        blocks.append(
            Bullets(
                tuple(
                    t(N_("{name}: “{text}”"), name=q.name, text=q.text) if q.name else f"“{q.text}”"
                    for q in quotes
                )
            )
        )
    blocks.append(
        Paragraph(t(N_("A pair met when at least one of them said so in their check-in.")), note=True)
    )
    return blocks


async def _people(session: AsyncSession, ids: set[str]) -> dict[str, Person]:
    if not ids:
        return {}
    rows = await session.exec(select(Person).where(col(Person.id).in_(ids), Person.forgotten == False))  # noqa: E712
    return {p.id: p for p in rows.all()}


async def _goal_texts(session: AsyncSession) -> dict[str, str]:
    return {g.id: g.text for g in (await session.exec(select(LearningGoal))).all()}
