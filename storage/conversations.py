"""Reading a person's conversations, their questions and the answers to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Conversation, ConversationStatus, Question


async def open_conversation(session: AsyncSession, person_id: str) -> Conversation | None:
    """The person's open conversation: there is at most one at a time."""
    query = select(Conversation).where(
        Conversation.person_id == person_id, Conversation.status == ConversationStatus.OPEN
    )
    return (await session.exec(query)).first()


async def open_conversations(session: AsyncSession, person_ids: list[str]) -> dict[str, Conversation]:
    """As `open_conversation`, for several people in one read."""
    query = select(Conversation).where(
        col(Conversation.person_id).in_(person_ids), Conversation.status == ConversationStatus.OPEN
    )
    return {c.person_id: c for c in (await session.exec(query)).all()}


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these conversation keys are taken."""
    rows = await session.exec(select(Conversation.key).where(col(Conversation.key).in_(keys)))
    return set(rows.all())


async def add_conversations(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Conversation]:
    """New conversations in one statement, returned in the order given. The caller holds their
    people's locks and has seen their keys free (`existing_keys`): a key taken meanwhile fails
    the transaction rather than being skipped."""
    if not rows:
        return []
    # Matched back by key rather than asking for RETURNING in parameter order, which SQLite can
    # only give a row at a time.
    statement = insert(Conversation).returning(Conversation)
    made = {c.key: c for c in (await session.exec(statement, params=rows)).scalars()}  # type: ignore[call-overload]
    return [made[row["key"]] for row in rows]


async def add_questions(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, list[Question]]:
    """New questions in one statement (a sweep may start thousands of conversations at once),
    read back per conversation, in order."""
    if not rows:
        return {}
    # Core's executemany: the ORM's bulk insert splits rows whose goal is empty from the others.
    await (await session.connection()).execute(insert(Question), rows)
    return await questions_of_many(session, list(dict.fromkeys(row["conversation_id"] for row in rows)))


async def conversation_by_key(session: AsyncSession, key: str) -> Conversation | None:
    return (await session.exec(select(Conversation).where(Conversation.key == key))).first()


async def waiting_conversations(session: AsyncSession, person_id: str) -> list[Conversation]:
    """Conversations created but not being asked now (never opened, or set aside), in the order
    they fell due; which comes first is the agenda's to say (`bot.agenda`)."""
    rows = await session.exec(
        select(Conversation)
        .where(
            Conversation.person_id == person_id,
            col(Conversation.status).in_((ConversationStatus.PENDING, ConversationStatus.WAITING)),
        )
        .order_by(col(Conversation.created_at), col(Conversation.id))
    )
    return list(rows.all())


async def latest_started(session: AsyncSession, person_id: str) -> Conversation | None:
    rows = await session.exec(
        select(Conversation)
        .where(Conversation.person_id == person_id, col(Conversation.started_at).is_not(None))
        .order_by(col(Conversation.started_at).desc())
    )
    return rows.first()


async def questions_of(session: AsyncSession, conversation_id: int) -> list[Question]:
    rows = await session.exec(
        select(Question).where(Question.conversation_id == conversation_id).order_by(col(Question.position))
    )
    return list(rows.all())


async def questions_of_many(session: AsyncSession, conversation_ids: list[int]) -> dict[int, list[Question]]:
    """The questions of several conversations in one read, each list in the conversation's order."""
    found: dict[int, list[Question]] = {i: [] for i in conversation_ids}
    rows = await session.exec(
        select(Question)
        .where(col(Question.conversation_id).in_(conversation_ids))
        .order_by(col(Question.conversation_id), col(Question.position))
    )
    for question in rows.all():
        found[question.conversation_id].append(question)
    return found


async def current_question(session: AsyncSession, conversation: Conversation | None) -> Question | None:
    """The question the conversation waits for an answer to, if any."""
    if conversation is None or conversation.current_question_id is None:
        return None
    return await session.get(Question, conversation.current_question_id)


async def question_by_key(session: AsyncSession, conversation_id: int, key: str) -> Question | None:
    query = select(Question).where(Question.conversation_id == conversation_id, Question.key == key)
    return (await session.exec(query)).first()


async def answer_to(session: AsyncSession, question_id: int) -> Answer | None:
    return (await session.exec(select(Answer).where(Answer.question_id == question_id))).first()


async def answered_in(session: AsyncSession, conversation_id: int) -> list[tuple[Question, Answer]]:
    """The conversation's answered questions with their answers, in the conversation's order."""
    rows = await session.exec(
        select(Question, Answer)
        .join(Answer, col(Answer.question_id) == Question.id)
        .where(Question.conversation_id == conversation_id)
        .order_by(col(Question.position))
    )
    return list(rows.all())
