"""The audit log: who did what with a person's data, and when. The one way to write and read it.

A row names the kind (an export, an erasure, a retention deletion, a use of a coordinator's
link), the actor, the person whose data it was, and ids and counts; never anything a person
wrote. It is written in the same transaction as what it records, so a row exists exactly when
the thing happened, and its time is the database's clock, not the caller's (a `tick --at`
another day records when it really ran).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent, AuditKind
from storage.outbox import database_now

# What `detail` may hold: ids and counts. Anything else is refused, so that no caller can slip
# a text into the log.
Detail = dict[str, int | str | None]

SCHEDULER = "scheduler"


def command_line() -> str:
    """The actor of a command run by hand: the operating-system user who ran it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment (a bare container)
        return "cli"


def person(person_id: str) -> str:
    """The actor of a person's own request in a chat."""
    return f"person:{person_id}"


def coordinator(coordinator_id: str) -> str:
    return f"coordinator:{coordinator_id}"


def _checked(detail: Detail | None) -> Detail | None:
    for name, value in (detail or {}).items():
        if not (value is None or isinstance(value, int) or (isinstance(value, str) and len(value) <= 200)):
            raise TypeError(f"audit detail {name!r} must be an id or a count")
    return detail


async def record(
    session: AsyncSession,
    kind: AuditKind,
    *,
    actor: str,
    person_id: str | None,
    detail: Detail | None = None,
) -> None:
    """One row, in the caller's transaction, stamped with the database's clock."""
    await session.exec(
        insert(AuditEvent).values(  # type: ignore[call-overload]
            at=database_now(session),
            kind=kind,
            actor=actor,
            person_id=person_id,
            detail=_checked(detail),
        )
    )


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    kind: AuditKind
    actor: str
    person_id: str | None
    detail: dict[str, Any]

    def line(self) -> str:
        """One line: when, what, whose, who, then the ids and counts as name=value."""
        parts = [self.at.isoformat(timespec="seconds"), self.kind.value, f"person={self.person_id or '-'}"]
        parts.append(f"actor={self.actor}")
        parts += [f"{name}={value}" for name, value in sorted(self.detail.items())]
        return " ".join(parts)


async def entries(
    session: AsyncSession,
    since: datetime | None = None,
    person_id: str | None = None,
    kind: AuditKind | None = None,
) -> list[Entry]:
    """The rows, oldest first (from `since`, of one person, of one kind, when given)."""
    query = select(AuditEvent)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    if person_id is not None:
        query = query.where(AuditEvent.person_id == person_id)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    rows = (await session.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id)))).all()
    return [
        Entry(r.id or 0, r.at, AuditKind(r.kind), r.actor, r.person_id, dict(r.detail or {})) for r in rows
    ]
