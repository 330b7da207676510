"""What a person has been asked and has answered, read as plain data for the views that show it
(a form that asks a question again, a message updated to show its answer, a home view)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import (
    Answer,
    ChatIdentity,
    Conversation,
    LearningGoal,
    Person,
    Programme,
    Question,
)


@dataclass(frozen=True)
class AskedQuestion:
    """A question as it was put to the person, with what a form for it shows."""

    question_id: int
    text: str
    goal: str | None  # the learning goal it asks about
    flow: str | None
    language: str


@dataclass(frozen=True)
class ConversationState:
    status: str  # pending | open | done | expired
    next_group_at: datetime | None
    question_statuses: tuple[str, ...]


@dataclass(frozen=True)
class QuestionAndAnswer:
    question: str
    answer: str


async def recorded_answer(store: Store, person_id: str, question_id: int) -> str | None:
    """The answer now stored for this question of this person, if any."""
    async with store.reading() as session:
        return (
            await session.exec(
                select(Answer.text).where(Answer.question_id == question_id, Answer.person_id == person_id)
            )
        ).first()


async def asked_question(store: Store, platform: str, user_id: str, question_id: int) -> AskedQuestion | None:
    """The question, if it is one of this platform user's own; None otherwise."""
    async with store.reading() as session:
        row = (
            await session.exec(
                select(Question, Person, Programme)
                .join(Person, col(Person.id) == Question.person_id)
                .join(ChatIdentity, col(ChatIdentity.person_id) == Person.id)
                .join(Programme, col(Programme.id) == Person.programme_id)
                .where(
                    Question.id == question_id,
                    ChatIdentity.platform == platform,
                    ChatIdentity.external_id == user_id,
                    col(Person.forgotten) == False,  # noqa: E712
                )
            )
        ).first()
        if row is None:
            return None
        question, person, programme = row
        goal = await session.get(LearningGoal, question.goal_id) if question.goal_id else None
        conv = await session.get(Conversation, question.conversation_id)
    assert question.id is not None
    return AskedQuestion(
        question.id,
        question.text,
        goal.text if goal else None,
        conv.flow if conv else None,
        person.language or programme.language,
    )


async def conversations_of(session: AsyncSession, person_id: str) -> dict[str, ConversationState]:
    """The person's conversations by key, each with the statuses of its questions."""
    conversations = (
        await session.exec(select(Conversation).where(Conversation.person_id == person_id))
    ).all()
    statuses: dict[int, list[str]] = {}
    for conversation_id, status in (
        await session.exec(
            select(Question.conversation_id, Question.status)
            .where(Question.person_id == person_id)
            .order_by(col(Question.position))
        )
    ).all():
        statuses.setdefault(conversation_id, []).append(status)
    return {
        c.key: ConversationState(c.status, c.next_group_at, tuple(statuses.get(c.id or 0, ())))
        for c in conversations
    }


async def answered_by(session: AsyncSession, person_id: str) -> list[QuestionAndAnswer]:
    """Every answer the person gave, in the order the questions were asked."""
    rows = await session.exec(
        select(Question.text, Answer.text)
        .join(Answer, col(Answer.question_id) == Question.id)
        .where(Answer.person_id == person_id)
        .order_by(col(Question.conversation_id), col(Question.position))
    )
    return [QuestionAndAnswer(question, answer) for question, answer in rows.all()]
