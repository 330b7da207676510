"""Retention: what a person wrote is deleted a set number of months after their exchange ended
(the programme file's `retention.delete_after_months`; unset, nothing is deleted).

Deleted: the words of their answers (the rows stay, with the options they chose, so that the
outcome report still counts responses, outcomes and goal progress), their notes and aha moments,
the words of their support requests, the stored copies of messages to them or about them (the
exports they asked for among them; the rows stay as ids and counts), the reports sent since their
exchange began (digests and panel packs quote them; one not sent yet is dropped and written afresh
by the next sweep), and a reply of theirs set aside as failed. Kept: the person (so that a later
import does not bring anything back as new, and the outcome report knows their partnership), their
conversations and the questions as asked.

Each person is done in one transaction under their lock (`person_for_update`), with the audit row;
whoever comes second (another process, the next tick) finds nothing left and does nothing.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit
from storage.db import Store
from storage.models import (
    AhaMoment,
    Answer,
    AuditKind,
    InboundEvent,
    InboxStatus,
    Note,
    OutboxMessage,
    OutboxStatus,
    Person,
    Programme,
    Question,
    SupportRequest,
)
from storage.people import person_for_update

logger = logging.getLogger(__name__)

# What a stored message keeps once its words are deleted (as `forget` leaves a sent report).
DELETED: dict[str, Any] = {"person_id": "", "text": ""}
REPORTS = ("digest:", "panel-pack:")


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (31 March + 1)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deletion_due(end: date, months: int, zone: ZoneInfo) -> datetime:
    """The first instant the person's words may go: `months` after the end of their last day,
    in their own time zone (never a moment earlier anywhere)."""
    return datetime.combine(add_months(end, months) + timedelta(days=1), time(0), zone).astimezone(UTC)


def _text(message: Any) -> Any:
    return message.payload["text"].as_string()


def _messages_of(person_id: str) -> Any:
    """Messages to the person, about them (an alert quoting their words) or asking their questions."""
    questions = select(Question.id).where(Question.person_id == person_id)
    return or_(
        col(OutboxMessage.person_id) == person_id,
        col(OutboxMessage.about_person_id) == person_id,
        col(OutboxMessage.question_id).in_(questions),
    )


async def _with_words(session: AsyncSession, person_ids: list[str]) -> set[str]:
    """Those of these people of whom something they wrote is stored. Messages are not looked at:
    one quotes a person's words only when those words are stored too, and the sweeps go on
    writing other messages to them (which would have their words deleted, and audited, again
    at every tick)."""
    found: set[str] = set()
    for query in (
        select(Answer.person_id).where(col(Answer.person_id).in_(person_ids), col(Answer.text) != ""),
        select(Note.person_id).where(col(Note.person_id).in_(person_ids)),
        select(AhaMoment.person_id).where(col(AhaMoment.person_id).in_(person_ids)),
        select(SupportRequest.person_id).where(
            col(SupportRequest.person_id).in_(person_ids), col(SupportRequest.text) != ""
        ),
        select(InboundEvent.person_id).where(
            col(InboundEvent.person_id).in_(person_ids),
            col(InboundEvent.status) == InboxStatus.FAILED,
            col(InboundEvent.payload).is_not(None),
        ),
    ):
        found.update(p for p in (await session.exec(query.distinct())).all() if p is not None)
    return found


async def due_for_deletion(store: Store, now: datetime) -> list[tuple[str, int]]:
    """(person, months) for everyone whose words are due to go at `now` and are not gone yet."""
    async with store.reading() as session:
        rows = (
            await session.exec(
                select(Person, Programme.retention_months, Programme.timezone)
                .join(Programme, col(Programme.id) == Person.programme_id)
                .where(
                    Person.forgotten == False,  # noqa: E712
                    col(Person.end).is_not(None),
                    col(Programme.retention_months).is_not(None),
                )
            )
        ).all()
        due = {
            person.id: months
            for person, months, zone in rows
            if person.end is not None
            and months is not None
            and now >= deletion_due(person.end, months, ZoneInfo(person.timezone or zone))
        }
        if not due:
            return []
        left = await _with_words(session, sorted(due))
    return [(person_id, due[person_id]) for person_id in sorted(left)]


async def delete_words(store: Store, person_id: str, months: int, now: datetime) -> dict[str, int] | None:
    """Delete what the person wrote (see the module's docstring), with its audit row; None when
    someone else did it first or nothing was left."""
    async with store.session() as session:
        person = await person_for_update(session, person_id)
        if person is None or person.forgotten or person.end is None:
            return None
        programme = await session.get(Programme, person.programme_id)
        if programme is None or programme.retention_months != months:
            return None
        zone = ZoneInfo(person.timezone or programme.timezone)
        if now < deletion_due(person.end, months, zone) or not await _with_words(session, [person_id]):
            return None
        began = datetime.combine(person.start or person.end, time(0), zone).astimezone(UTC)
        exports = col(OutboxMessage.key).startswith(f"export:{person_id}:")
        reports = or_(*(col(OutboxMessage.key).startswith(prefix) for prefix in REPORTS))
        counts: dict[str, int] = {}
        for name, statement in (
            (
                "answers",
                update(Answer)
                .where(col(Answer.person_id) == person_id, col(Answer.text) != "")
                .values(text=""),
            ),
            ("notes", delete(Note).where(col(Note.person_id) == person_id)),
            ("aha_moments", delete(AhaMoment).where(col(AhaMoment.person_id) == person_id)),
            (
                "support_requests",
                update(SupportRequest)
                .where(col(SupportRequest.person_id) == person_id, col(SupportRequest.text) != "")
                .values(text=""),
            ),
            # Not sent yet (nor being sent): not sent at all, now.
            (
                "unsent_messages",
                update(OutboxMessage)
                .where(_messages_of(person_id), col(OutboxMessage.status) == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SUPERSEDED),
            ),
            (
                "exports",
                update(OutboxMessage)
                .where(exports, _text(OutboxMessage) != "")
                .values(payload={**DELETED, "op": "deliver-export"}),
            ),
            (
                "messages",
                update(OutboxMessage)
                .where(_messages_of(person_id), ~exports, _text(OutboxMessage) != "")
                .values(payload=DELETED),
            ),
            (
                "unsent_reports",
                delete(OutboxMessage).where(
                    reports,
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                    col(OutboxMessage.created_at) >= began,
                ),
            ),
            (
                "sent_reports",
                update(OutboxMessage)
                .where(reports, col(OutboxMessage.created_at) >= began, _text(OutboxMessage) != "")
                .values(payload=DELETED),
            ),
            (
                "failed_replies",
                update(InboundEvent)
                .where(
                    col(InboundEvent.person_id) == person_id,
                    col(InboundEvent.status) == InboxStatus.FAILED,
                    col(InboundEvent.payload).is_not(None),
                )
                .values(payload=None),
            ),
        ):
            result = await session.exec(statement)  # type: ignore[call-overload]
            counts[name] = int(result.rowcount or 0)
        await audit.record(
            session,
            AuditKind.RETENTION,
            actor=audit.SCHEDULER,
            person_id=person_id,
            detail={**counts, "months": months, "exchange_end": person.end.isoformat()},
        )
    logger.info(
        "retention: deleted what %s wrote, %d months after their exchange: %s", person_id, months, counts
    )
    return counts


async def apply_retention(store: Store, now: datetime) -> int:
    """Everyone due at `now`, but never later than the real clock: a sweep run as of another
    time (`tick --at ... --yes`, the demo's simulated clock) deletes nothing early. Returns the
    number of people whose words this call deleted."""
    now = min(now, datetime.now(UTC))
    deleted = 0
    for person_id, months in await due_for_deletion(store, now):
        if await delete_words(store, person_id, months, now) is not None:
            deleted += 1
    return deleted
