"""What the adapter reads back after a turn, to update the card a person just answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from storage.db import Store
from storage.models import Answer, OutboxMessage, Question

PLATFORM = "teams"


async def answered_card(
    store: Store, person_id: str, question_id: int, now: datetime
) -> tuple[str, dict[str, Any], str] | None:
    """(Teams message id, payload, answer) of the latest card that asked this question of this
    person, when this very turn (at `now`) stored an answer to it; else None."""
    async with store.session() as session:
        answer = (
            await session.exec(
                select(Answer)
                .join(Question, col(Answer.question_id) == Question.id)
                .where(Answer.question_id == question_id, Question.person_id == person_id)
            )
        ).first()
        if answer is None or now not in (answer.answered_at, answer.corrected_at):
            return None
        row = (
            await session.exec(
                select(OutboxMessage)
                .where(
                    OutboxMessage.question_id == question_id,
                    OutboxMessage.platform == PLATFORM,
                    OutboxMessage.status == "sent",
                    col(OutboxMessage.platform_message_id).is_not(None),
                )
                .order_by(col(OutboxMessage.id).desc())
            )
        ).first()
        if row is None or row.platform_message_id is None:
            return None
        return row.platform_message_id, row.payload, answer.text
