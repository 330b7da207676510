"""What coordinators' web links need from the database: the signing key (when WEB_SECRET is not
set) and the revocations of `reflectbot link --revoke`."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import Person, WebLinkRevocation, WebSecret


async def stored_secret(store: Store, now: datetime) -> str:
    """The key kept in the database, made the first time it is asked for; two processes asking at
    once get the same one (the second insert fails and reads the first)."""
    async with store.session() as session:
        row = await session.get(WebSecret, 1)
        if row is not None:
            return row.secret
    try:
        async with store.session() as session:
            session.add(WebSecret(id=1, secret=secrets.token_urlsafe(32), created_at=now))
    except IntegrityError:
        pass
    async with store.session() as session:
        row = await session.get(WebSecret, 1)
        assert row is not None
        return row.secret


async def revoked_before(store: Store, coordinator_id: str) -> datetime | None:
    async with store.reading() as session:
        row = await session.get(WebLinkRevocation, coordinator_id)
        return row.revoked_before if row else None


async def revoke_links(store: Store, coordinator_id: str, now: datetime) -> None:
    async with store.session() as session:
        row = await session.get(WebLinkRevocation, coordinator_id)
        if row is None:
            row = WebLinkRevocation(coordinator_id=coordinator_id, revoked_before=now)
        row.revoked_before = now
        session.add(row)


async def coordinator_named(session: AsyncSession, coordinator_id: str) -> Person | None:
    """The coordinator by that id, while they are one in the programme (not forgotten, not left)."""
    person = await session.get(Person, coordinator_id)
    if person is None or person.role != "coordinator" or not person.in_programme:
        return None
    return person
