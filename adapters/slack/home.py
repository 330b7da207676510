"""The App Home tab: a person's upcoming prompts, their answers so far and their learning goals,
read from storage when the view is published."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.slack import texts
from adapters.slack.blocks import ECHO, Block, fit, mrkdwn, plain
from bot.flows import FLOWS
from bot.i18n import Translator, format_moment
from bot.plan import calendar_for, plan_for
from storage.models import Answer, Conversation, LearningGoal, Person, PersonGoal, Programme, Question

MAX_BLOCKS = 100
SHOWN_ANSWERS = 40


async def home_view(
    session: AsyncSession, person: Person, translator: Translator, now: datetime
) -> dict[str, Any]:
    programme = await session.get(Programme, person.programme_id)
    language = person.language or (programme.language if programme else "en")
    t = partial(translator.gettext, language)
    cal = await calendar_for(session, person)

    def moment(at: datetime) -> str:
        return format_moment(language, at.astimezone(cal.zone))

    def heading(text: str) -> Block:
        return {"type": "section", "text": mrkdwn(f"*{fit(text, 200)}*")}

    blocks: list[Block] = [{"type": "header", "text": plain(t(texts.HOME_TITLE), 150)}]

    goals = (
        await session.exec(
            select(LearningGoal)
            .join(PersonGoal, col(PersonGoal.goal_id) == LearningGoal.id)
            .where(PersonGoal.person_id == person.id)
            .order_by(col(PersonGoal.position))
        )
    ).all()
    if goals:
        blocks.append(heading(t(texts.YOUR_GOALS)))
        each = 2800 // len(goals) - 10
        blocks.append({"type": "section", "text": mrkdwn("\n".join(f"> {fit(g.text, each)}" for g in goals))})
        blocks.append({"type": "divider"})

    conversations = {
        c.key: c
        for c in (await session.exec(select(Conversation).where(Conversation.person_id == person.id))).all()
    }
    coming: list[str] = []
    for planned in await plan_for(session, person):
        conv = conversations.get(planned.key)
        title = t(FLOWS[planned.flow].title)
        if conv is not None and conv.status == "open":
            questions = (
                await session.exec(select(Question).where(Question.conversation_id == conv.id))
            ).all()
            applicable = [q for q in questions if q.status != "not_applicable"]
            done = sum(1 for q in applicable if q.status in ("answered", "skipped"))
            line = t(texts.STATUS_LINE, flow=title, done=done, total=len(applicable))
            if conv.next_group_at is not None:
                line += " " + t(texts.NEXT_QUESTIONS, when=moment(conv.next_group_at))
            coming.append(line)
        elif (conv is None or conv.status == "pending") and (
            planned.expires_at is None or planned.expires_at > now
        ):
            coming.append(t(texts.HOME_PLANNED, flow=title, when=moment(max(planned.due_at, now))))
    blocks.append(heading(t(texts.HOME_COMING_UP)))
    blocks.append(
        {"type": "section", "text": mrkdwn(fit("\n".join(coming) or t(texts.HOME_NOTHING_PLANNED), 2900))}
    )
    blocks.append({"type": "divider"})

    answered = (
        await session.exec(
            select(Question, Answer)
            .join(Answer, col(Answer.question_id) == Question.id)
            .where(Answer.person_id == person.id)
            .order_by(col(Question.conversation_id), col(Question.position))
        )
    ).all()
    blocks.append(heading(t(texts.HOME_ANSWERS)))
    if not answered:
        blocks.append({"type": "section", "text": mrkdwn(fit(t(texts.HOME_NO_ANSWERS), 2900))})
    earlier = max(0, len(answered) - SHOWN_ANSWERS)
    if earlier:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(fit(t(texts.HOME_MORE_ANSWERS, count=earlier), 1900))]}
        )
    for question, answer in answered[earlier:]:
        text = f"*{fit(question.text, 600)}*\n> " + fit(answer.text, ECHO).replace("\n", "\n> ")
        blocks.append({"type": "section", "text": mrkdwn(text)})
    blocks.append({"type": "context", "elements": [mrkdwn(fit(t(texts.HOME_HELP), 1900))]})
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}
