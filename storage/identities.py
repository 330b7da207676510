"""How a person is reached on a platform (`ChatIdentity`), read and written for the adapters.

Adapters hand in and get back plain data (ids, languages, the platform's reference as a dict);
the queries stay here, so that no adapter needs the ORM.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import ChatIdentity, OutboxMessage, OutboxStatus, Person, Programme

logger = logging.getLogger(__name__)


@dataclass
class ReferenceWrites:
    """What was written to references while watched (`watching_references`): merged values per
    platform user, and the users whose reference was replaced or dropped. The outbox follows a
    person's address changed by a send (a Slack DM opened) without reading it back."""

    merged: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    replaced: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.merged or self.replaced)


# The writes of the task watching them (a context variable: each lane of a drain is its own task).
_writes: ContextVar[ReferenceWrites | None] = ContextVar("reference_writes", default=None)


@contextmanager
def watching_references() -> Iterator[ReferenceWrites]:
    writes = ReferenceWrites()
    token = _writes.set(writes)
    try:
        yield writes
    finally:
        _writes.reset(token)


def _replaced(platform: str, external_id: str) -> None:
    writes = _writes.get()
    if writes is not None:
        writes.replaced.add((platform, external_id))


@dataclass(frozen=True)
class Recipient:
    """The programme person behind a platform user id."""

    person_id: str
    language: str
    teams_tenant: str | None  # the programme's Teams tenant


async def _identity(session: AsyncSession, platform: str, external_id: str) -> ChatIdentity | None:
    return (
        await session.exec(
            select(ChatIdentity).where(
                ChatIdentity.platform == platform, ChatIdentity.external_id == external_id
            )
        )
    ).first()


async def recipient(store: Store, platform: str, external_id: str) -> Recipient | None:
    """Who this platform user is in the programme; None for someone unknown or forgotten."""
    async with store.reading() as session:
        row = (
            await session.exec(
                select(Person, Programme)
                .join(ChatIdentity, col(ChatIdentity.person_id) == Person.id)
                .join(Programme, col(Programme.id) == Person.programme_id)
                .where(
                    ChatIdentity.platform == platform,
                    ChatIdentity.external_id == external_id,
                    col(Person.forgotten) == False,  # noqa: E712
                )
            )
        ).first()
    if row is None:
        return None
    person, programme = row
    return Recipient(person.id, person.language or programme.language, programme.teams_tenant)


def _same(old: dict[str, Any] | None, new: dict[str, Any], ignore: Iterable[str]) -> bool:
    if old is None:
        return False
    skipped = set(ignore)
    return {k: v for k, v in old.items() if k not in skipped} == {
        k: v for k, v in new.items() if k not in skipped
    }


async def save_reference(
    store: Store,
    platform: str,
    external_id: str,
    reference: dict[str, Any],
    now: datetime,
    ignore: Iterable[str] = (),
) -> str | None:
    """Keep `reference` as how to reach this platform user; returns their person id, or None when
    the programme does not know them (then nothing is stored). The reference is written only when
    it differs from the stored one (keys in `ignore` aside).

    Someone marked unreachable is reachable again: the messages that failed for that reason go
    back to the outbox."""
    # Most often nothing changed: a read takes no write lock (SQLite) from the replies being kept.
    async with store.reading() as session:
        identity = await _identity(session, platform, external_id)
        person = await session.get(Person, identity.person_id) if identity else None
        if identity is None or person is None or person.forgotten:
            return None
        changed = not _same(identity.reference, reference, ignore)
        person_id, identity_id, unreachable = person.id, identity.id, person.unreachable_reason
    if unreachable or changed:
        _replaced(platform, external_id)
    if unreachable:
        await _reachable_again(store, platform, identity_id, reference, now)
    elif changed:
        # One statement, so that the write lock is held for no round trip.
        async with store.one_statement() as connection:
            await connection.execute(
                update(ChatIdentity).where(col(ChatIdentity.id) == identity_id).values(reference=reference)
            )
        logger.info("%s: reference stored for %s", platform, person_id)
    return person_id


async def _reachable_again(
    store: Store, platform: str, identity_id: int | None, reference: dict[str, Any], now: datetime
) -> None:
    async with store.session() as session:
        identity = await session.get(ChatIdentity, identity_id)
        person = await session.get(Person, identity.person_id) if identity else None
        if identity is None or person is None or person.forgotten:
            return
        identity.reference = reference
        session.add(identity)
        if person.unreachable_reason:
            result = await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.person_id) == person.id,
                    col(OutboxMessage.status) == OutboxStatus.FAILED,
                    col(OutboxMessage.last_error) == person.unreachable_reason,
                )
                .values(status=OutboxStatus.PENDING, not_before=now, attempts=0, last_error=None)
            )
            person.unreachable_reason = None
            session.add(person)
            logger.info(
                "%s: %s reachable again; %d held messages requeued", platform, person.id, result.rowcount or 0
            )


# The stored reference (an object, or nothing yet) with flat `values` added, in the database: one
# statement, where reading the row and writing it back took two at every first send to a person.
_MERGED = {
    "postgresql": "CAST((CASE WHEN json_typeof(reference) = 'object' THEN CAST(reference AS jsonb) "
    "ELSE CAST('{}' AS jsonb) END) || CAST(:values AS jsonb) AS json)",
    "sqlite": "json_patch(CASE WHEN json_type(reference) = 'object' THEN reference ELSE '{}' END, :values)",
}


async def merge_reference(store: Store, platform: str, external_id: str, values: dict[str, str]) -> None:
    """Add `values` to what is kept about reaching this platform user (e.g. Slack's DM channel)."""
    async with store.one_statement() as connection:
        await connection.execute(
            text(
                f"UPDATE chatidentity SET reference = {_MERGED[connection.dialect.name]} "
                "WHERE platform = :platform AND external_id = :external_id"
            ),
            {"values": json.dumps(values), "platform": platform, "external_id": external_id},
        )
    writes = _writes.get()
    if writes is not None:
        writes.merged.setdefault((platform, external_id), {}).update(values)


async def drop_reference(store: Store, platform: str, external_id: str) -> None:
    """The stored reference no longer reaches this user (the app was removed, or it was refused)."""
    async with store.session() as session:
        identity = await _identity(session, platform, external_id)
        if identity is not None and identity.reference is not None:
            identity.reference = None
            session.add(identity)
            _replaced(platform, external_id)
            logger.info("%s: reference dropped for %s", platform, identity.person_id)


async def mark_unreachable(store: Store, person_id: str, reason: str) -> None:
    """Nothing reaches the person now (`reason` is what the coordinator's digest shows, and the
    error their failed messages carry)."""
    async with store.session() as session:
        person = await session.get(Person, person_id)
        if person is not None and person.unreachable_reason != reason:
            person.unreachable_reason = reason
            session.add(person)
            logger.warning("%s is unreachable: %s", person_id, reason)


async def teams_tenant_of(store: Store, person_id: str) -> str | None:
    """The Teams tenant of the person's programme, if it names one."""
    async with store.reading() as session:
        person = await session.get(Person, person_id)
        programme = await session.get(Programme, person.programme_id) if person else None
        return programme.teams_tenant if programme else None
