"""Who is paired with whom in a round: pure functions over plain data, no storage.

In each organisation, the people who are or have been on exchange there are paired with its
permanent colleagues. Nobody is paired with someone they were paired with before while someone
new is available to them; among new pairs, a shared learning goal (a participant's goal, a
colleague's interest) counts first, then how many working hours a week they share (time zones
and work weeks). When one side is larger, the people left over join a pair as its third member,
so nobody is silently left out; when it is so much larger that every pair is already a trio, the
rest wait for the next round, where they are new to everyone and so come first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.calendar import WEEKDAYS

Side = Literal["exchange", "colleague"]
# Hours of a working day, local time: what "overlapping working hours" compares.
WORKING_HOURS = (time(9, 0), time(17, 0))
# At least this many shared working hours a week make overlap the reason for a pair.
HOURS_WORTH_SAYING = 10


@dataclass(frozen=True)
class Candidate:
    person_id: str
    side: Side
    # Where the pair works together: the host of someone on exchange, the home of someone back,
    # the colleague's own organisation.
    organisation_id: str
    goals: frozenset[str]
    # The person's working hours in one week, as bits of UTC hours counted from Monday 00:00.
    hours: int


@dataclass(frozen=True)
class Group:
    """A pair (or a trio), members sorted with those on exchange first, and why."""

    members: tuple[str, ...]
    organisation_id: str
    goal_id: str | None
    reason: Literal["goal", "hours", "new", "again"]
    overlap_hours: int


def week_hours(timezone: str, workdays: Iterable[str], around: date) -> int:
    """Working hours in the week of `around` as bits of UTC hours from that week's Monday."""
    zone = ZoneInfo(timezone)
    monday = around - timedelta(days=around.weekday())
    origin = datetime.combine(monday, time(0), tzinfo=UTC)
    days = set(workdays)
    bits = 0
    for offset in range(-1, 8):  # a day either side: a time zone can move a working day across
        day = monday + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in days:
            continue
        start = datetime.combine(day, WORKING_HOURS[0], tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day, WORKING_HOURS[1], tzinfo=zone).astimezone(UTC)
        hour = start
        while hour < end:
            index = int((hour - origin).total_seconds() // 3600)
            if 0 <= index < 168:
                bits |= 1 << index
            hour += timedelta(hours=1)
    return bits


def _overlap(a: Candidate, b: Candidate) -> int:
    return (a.hours & b.hours).bit_count()


def _shared(a: Candidate, b: Candidate, goal_order: dict[str, int]) -> list[str]:
    return sorted(a.goals & b.goals, key=lambda g: (goal_order.get(g, len(goal_order)), g))


def _is_new(a: str, b: str, met: set[frozenset[str]]) -> bool:
    return frozenset((a, b)) not in met


def _score(e: Candidate, c: Candidate, met: set[frozenset[str]]) -> tuple[int, int, int]:
    return (int(_is_new(e.person_id, c.person_id, met)), len(e.goals & c.goals), _overlap(e, c))


def make_groups(
    candidates: Iterable[Candidate], met: set[frozenset[str]], goal_order: dict[str, int] | None = None
) -> tuple[list[Group], list[str]]:
    """The round's groups, and the people not paired this round (no one on the other side in
    their organisation, or more on their side than trios can take). `met` holds every pair of people grouped together before."""
    order = goal_order or {}
    by_org: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_org.setdefault(candidate.organisation_id, []).append(candidate)
    groups: list[Group] = []
    unpaired: list[str] = []
    for org in sorted(by_org):
        made, left = _organisation_groups(org, by_org[org], met, order)
        groups.extend(made)
        unpaired.extend(left)
    return groups, unpaired


def _organisation_groups(
    org: str, people: list[Candidate], met: set[frozenset[str]], order: dict[str, int]
) -> tuple[list[Group], list[str]]:
    exchange = sorted((p for p in people if p.side == "exchange"), key=lambda p: p.person_id)
    colleagues = sorted((p for p in people if p.side == "colleague"), key=lambda p: p.person_id)
    if not exchange or not colleagues:
        return [], [p.person_id for p in exchange + colleagues]
    # Greedy on the best pairs first (new, then shared goals, then hours), ties by id.
    edges = sorted(
        ((e, c) for e in exchange for c in colleagues),
        key=lambda ec: (tuple(-s for s in _score(ec[0], ec[1], met)), ec[0].person_id, ec[1].person_id),
    )
    partner: dict[str, Candidate] = {}
    pairs: list[list[Candidate]] = []
    for e, c in edges:
        if e.person_id in partner or c.person_id in partner:
            continue
        partner[e.person_id], partner[c.person_id] = c, e
        pairs.append([e, c])
    _mend_repeats(pairs, exchange, colleagues, met)
    paired = {p.person_id for pair in pairs for p in pair}
    waiting: list[str] = []
    left = [p for p in exchange + colleagues if p.person_id not in paired]
    # Who has met the fewest of those paired takes a trio's place first: who waited last time.
    left.sort(key=lambda x: (sum(not _is_new(x.person_id, p, met) for p in paired), x.person_id))
    for extra in left:
        if all(len(pair) >= 3 for pair in pairs):
            # Far more on one side than the other: a group stays a conversation, not a
            # meeting. Those beyond the trios wait; being new to everyone, they come first next round.
            waiting.append(extra.person_id)
            continue

        # A third member, for the pair it fits best: a pair (not yet a trio), new to all of it.
        def fit(pair: list[Candidate], extra: Candidate = extra) -> tuple[int, int, int, int]:
            others = [p for p in pair if p.side != extra.side]
            new = all(_is_new(extra.person_id, p.person_id, met) for p in pair)
            return (
                -len(pair),
                int(new),
                max(len(extra.goals & o.goals) for o in others),
                max(_overlap(extra, o) for o in others),
            )

        max(pairs, key=fit).append(extra)
    return [_group(org, pair, met, order) for pair in pairs], waiting


def _mend_repeats(
    pairs: list[list[Candidate]],
    exchange: list[Candidate],
    colleagues: list[Candidate],
    met: set[frozenset[str]],
) -> None:
    """Greedy choice can leave two people paired again while a swap would give both sides
    someone new: swap until no such exchange (between pairs, or with someone left over) is left."""
    def repeats(e: Candidate, c: Candidate) -> int:
        return 0 if _is_new(e.person_id, c.person_id, met) else 1

    for _ in range(len(pairs) * 4 + 4):
        changed = False
        paired = {p.person_id for pair in pairs for p in pair}
        spare_colleagues = [c for c in colleagues if c.person_id not in paired]
        spare_exchange = [e for e in exchange if e.person_id not in paired]
        for pair in pairs:
            e, c = pair
            if _is_new(e.person_id, c.person_id, met):
                continue
            for other in pairs:
                if other is pair:
                    continue
                e2, c2 = other
                if repeats(e, c2) + repeats(e2, c) < 1 + repeats(e2, c2):
                    pair[1], other[1] = c2, c
                    changed = True
                    break
            else:
                spare = next((s for s in spare_colleagues if _is_new(e.person_id, s.person_id, met)), None)
                if spare is not None:
                    pair[1] = spare
                    changed = True
                else:
                    spare_e = next((s for s in spare_exchange if _is_new(s.person_id, c.person_id, met)), None)
                    if spare_e is not None:
                        pair[0] = spare_e
                        changed = True
            if changed:
                break
        if not changed:
            return


def _group(org: str, members: list[Candidate], met: set[frozenset[str]], order: dict[str, int]) -> Group:
    exchange = [m for m in members if m.side == "exchange"]
    colleagues = [m for m in members if m.side == "colleague"]
    shared = [g for e in exchange for c in colleagues for g in _shared(e, c, order)]
    goal = min(shared, key=lambda g: (order.get(g, len(order)), g)) if shared else None
    overlap = min(_overlap(e, c) for e in exchange for c in colleagues)
    new = all(_is_new(a.person_id, b.person_id, met) for a in exchange for b in colleagues)
    reason: Literal["goal", "hours", "new", "again"]
    if goal is not None:
        reason = "goal"
    elif overlap >= HOURS_WORTH_SAYING:
        reason = "hours"
    elif new:
        reason = "new"
    else:
        reason = "again"
    ids = tuple(m.person_id for m in sorted(members, key=lambda m: (m.side != "exchange", m.person_id)))
    return Group(ids, org, goal, reason, overlap)
