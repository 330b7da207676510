"""Answers stored without their question's key, conversation and flow: by a process of a version
before migration 0013 still running beside a newer one (replicas are upgraded one by one, and
an old one may still take replies from the inbox). The sweeps fill them in, so the reports,
which find answers by those columns, count them too."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Store

# The conversations first: which ones were answered is read through the answers still unfilled.
_MARK_ANSWERED = text(
    "UPDATE conversation SET answered = true WHERE answered = false AND id IN ("
    "SELECT question.conversation_id FROM answer JOIN question ON question.id = answer.question_id "
    "WHERE answer.key IS NULL)"
)
_FILL = text(
    "UPDATE answer SET "
    "key = (SELECT question.key FROM question WHERE question.id = answer.question_id), "
    "conversation_id = (SELECT question.conversation_id FROM question WHERE question.id = answer.question_id), "
    "flow = (SELECT conversation.flow FROM question JOIN conversation "
    "ON conversation.id = question.conversation_id WHERE question.id = answer.question_id) "
    "WHERE answer.key IS NULL"
)


async def fill_answer_keys(store: Store) -> int:
    """Fill in the answers stored without their keys; how many there were (almost always none:
    the index on `key` finds that at once)."""
    async with store.session() as session:
        await session.exec(_MARK_ANSWERED)  # type: ignore[call-overload]
        filled = await session.exec(_FILL)  # type: ignore[call-overload]
    return int(filled.rowcount or 0)
