"""Reading a person's conversations, their questions and the answers to them."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Conversation, ConversationStatus, Question


async def open_conversation(session: AsyncSession, person_id: str) -> Conversation | None:
    """The person's open conversation: there is at most one at a time."""
    query = select(Conversation).where(
        Conversation.person_id == person_id, Conversation.status == ConversationStatus.OPEN
    )
    return (await session.exec(query)).first()


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
