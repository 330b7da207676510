"""Pairing's queries: the settings, who chose what, the rounds made and their pairs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation, OutboxMessage, PersonGoal
from storage.outbox import insert_once
from storage.pairing_tables import (
    Interest,
    Pair,
    PairingChoice,
    PairingRound,
    PairingSettings,
    PairMember,
)


@dataclass(frozen=True)
class StoredGroup:
    pair: Pair
    members: tuple[str, ...]


async def all_settings(session: AsyncSession) -> list[PairingSettings]:
    return list((await session.exec(select(PairingSettings))).all())


async def choices(session: AsyncSession) -> dict[str, PairingChoice]:
    return {c.person_id: c for c in (await session.exec(select(PairingChoice))).all()}


async def choice_of(session: AsyncSession, person_id: str) -> PairingChoice | None:
    return await session.get(PairingChoice, person_id)


async def set_choice(
    session: AsyncSession,
    person_id: str,
    now: datetime,
    choice: str | None = None,
    paused_until: date | None = None,
) -> PairingChoice:
    """Record `pairing on|off|pause until DATE`: on and off end a pause; a pause keeps the choice."""
    row = await session.get(PairingChoice, person_id)
    if row is None:
        row = PairingChoice(person_id=person_id, choice=choice or "in", changed_at=now)
    if choice is not None:
        row.choice, row.paused_until = choice, None
    if paused_until is not None:
        row.paused_until = paused_until
    row.changed_at = now
    session.add(row)
    await session.flush()
    return row


async def goals_by_person(session: AsyncSession) -> dict[str, set[str]]:
    """Participants' learning goals and colleagues' interests, by person."""
    found: dict[str, set[str]] = defaultdict(set)
    for link in (await session.exec(select(PersonGoal))).all():
        found[link.person_id].add(link.goal_id)
    for interest in (await session.exec(select(Interest))).all():
        found[interest.person_id].add(interest.goal_id)
    return found


async def claim_round(session: AsyncSession, programme_id: str, number: int, day: date, now: datetime) -> PairingRound | None:
    """The round, inserted by this call; None when another process (or an earlier tick) made it.
    The insert waits for a concurrent one to commit, so exactly one caller gets the round."""
    inserted = await insert_once(
        session,
        PairingRound,
        {"programme_id": programme_id, "number": number, "day": day, "made_at": now},
        ["programme_id", "number"],
    )
    if not inserted:
        return None
    return await round_by_number(session, programme_id, number)


async def round_by_number(session: AsyncSession, programme_id: str, number: int) -> PairingRound | None:
    query = select(PairingRound).where(PairingRound.programme_id == programme_id, PairingRound.number == number)
    return (await session.exec(query)).first()


async def latest_round(session: AsyncSession, programme_id: str, on_or_before: int | None = None) -> PairingRound | None:
    query = select(PairingRound).where(PairingRound.programme_id == programme_id)
    if on_or_before is not None:
        query = query.where(col(PairingRound.number) <= on_or_before)
    return (await session.exec(query.order_by(col(PairingRound.number).desc()))).first()


async def rounds_of(session: AsyncSession, programme_id: str) -> list[PairingRound]:
    query = select(PairingRound).where(PairingRound.programme_id == programme_id).order_by(col(PairingRound.number))
    return list((await session.exec(query)).all())


async def add_group(
    session: AsyncSession,
    round_id: int,
    position: int,
    members: tuple[str, ...],
    organisation_id: str,
    goal_id: str | None,
    reason: str,
    overlap_hours: int,
) -> Pair:
    pair = Pair(
        round_id=round_id,
        position=position,
        organisation_id=organisation_id,
        goal_id=goal_id,
        reason=reason,
        overlap_hours=overlap_hours,
    )
    session.add(pair)
    await session.flush()
    assert pair.id is not None
    session.add_all(PairMember(pair_id=pair.id, round_id=round_id, person_id=m) for m in members)
    await session.flush()
    return pair


async def groups_of(session: AsyncSession, round_ids: list[int]) -> dict[int, list[StoredGroup]]:
    """Each round's groups in order, members in the order they were stored."""
    if not round_ids:
        return {}
    pairs = (
        await session.exec(
            select(Pair).where(col(Pair.round_id).in_(round_ids)).order_by(col(Pair.round_id), col(Pair.position))
        )
    ).all()
    members: dict[int, list[str]] = defaultdict(list)
    for member in (
        await session.exec(
            select(PairMember).where(col(PairMember.round_id).in_(round_ids)).order_by(col(PairMember.id))
        )
    ).all():
        members[member.pair_id].append(member.person_id)
    found: dict[int, list[StoredGroup]] = {r: [] for r in round_ids}
    for pair in pairs:
        assert pair.id is not None
        found[pair.round_id].append(StoredGroup(pair, tuple(members[pair.id])))
    return found


async def met_before(session: AsyncSession, programme_id: str, before_number: int) -> set[frozenset[str]]:
    """Every two people grouped together in an earlier round of the programme."""
    rounds = [r.id for r in await rounds_of(session, programme_id) if r.number < before_number and r.id is not None]
    met: set[frozenset[str]] = set()
    for groups in (await groups_of(session, rounds)).values():
        for group in groups:
            met.update(frozenset(p) for p in combinations(group.members, 2))
    return met


async def paired_before(session: AsyncSession, programme_id: str, round_number: int) -> set[str]:
    """Who was in a pair in an earlier round of the programme."""
    query = (
        select(PairMember.person_id)
        .join(PairingRound, col(PairingRound.id) == PairMember.round_id)
        .where(PairingRound.programme_id == programme_id, col(PairingRound.number) < round_number)
    )
    return set((await session.exec(query)).all())


async def group_of(session: AsyncSession, pair_id: int) -> StoredGroup | None:
    pair = await session.get(Pair, pair_id)
    if pair is None:
        return None
    rows = await session.exec(select(PairMember.person_id).where(PairMember.pair_id == pair_id).order_by(col(PairMember.id)))
    return StoredGroup(pair, tuple(rows.all()))


async def written_keys(session: AsyncSession, prefix: str) -> set[str]:
    """The outbox keys written with this prefix (introductions, invitations already written)."""
    query = select(OutboxMessage.key).where(col(OutboxMessage.key).startswith(prefix))
    return set((await session.exec(query)).all())


async def conversation_keys(session: AsyncSession, prefix: str) -> set[str]:
    """The keys of the conversations created with this prefix (check-ins already started)."""
    query = select(Conversation.key).where(col(Conversation.key).startswith(prefix))
    return set((await session.exec(query)).all())
