"""Messages already sent (outbox rows with the platform's message id), found again: to update
the message that asked a question once its answer is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from storage.db import Store
from storage.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class SentMessage:
    platform_message_id: str
    person_id: str | None
    # The neutral message as it was sent (`bot.messages.Outgoing.to_json()`).
    payload: dict[str, Any]


def _sent(row: OutboxMessage | None) -> SentMessage | None:
    if row is None or row.platform_message_id is None:
        return None
    return SentMessage(row.platform_message_id, row.person_id, dict(row.payload))


async def _latest(store: Store, *conditions: Any) -> SentMessage | None:
    """The newest outbox row that matches, as sent."""
    async with store.reading() as session:
        row = (
            await session.exec(
                select(OutboxMessage).where(*conditions).order_by(col(OutboxMessage.id).desc()).limit(1)
            )
        ).first()
    return _sent(row)


async def latest_asking(store: Store, platform: str, person_id: str, question_id: int) -> SentMessage | None:
    """The latest message sent on `platform` that asked this person this question (the question
    itself or a reminder of it)."""
    return await _latest(
        store,
        OutboxMessage.person_id == person_id,
        OutboxMessage.question_id == question_id,
        OutboxMessage.platform == platform,
        OutboxMessage.status == OutboxStatus.SENT,
        col(OutboxMessage.platform_message_id).is_not(None),
    )


async def sent_as(
    store: Store, platform: str, platform_message_id: str, person_id: str
) -> SentMessage | None:
    """The message the platform knows by this id, if it is one we sent this person."""
    return await _latest(
        store,
        OutboxMessage.person_id == person_id,
        OutboxMessage.platform == platform,
        OutboxMessage.platform_message_id == platform_message_id,
        # The message that asked, not an update of it (which keeps the same id).
        col(OutboxMessage.question_id).is_not(None),
    )
