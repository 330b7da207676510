"""A conversation's life: created once from its plan, opened (one at a time per person), advanced
question by question and day by day, and closed, after which the next one due opens."""

from __future__ import annotations

import logging

from bot.flows import FLOWS
from bot.i18n import N_
from bot.plan import Planned, calendar_for, plan_for
from bot.prompts import ask
from bot.questions import applies, create_questions, texts_for
from bot.turn import Turn
from storage.conversations import conversation_by_key, current_question, pending_conversations
from storage.models import Conversation, ConversationStatus, QuestionStatus
from storage.outbox import insert_once

logger = logging.getLogger(__name__)


async def start(turn: Turn, planned: Planned) -> Conversation:
    """Create the planned conversation (once, however many processes try) and open it unless
    another one is open."""
    existing = await conversation_by_key(turn.session, planned.key)
    if existing is not None:
        return existing
    flow = FLOWS[planned.flow]
    created = await insert_once(
        turn.session,
        Conversation,
        {
            "key": planned.key,
            "person_id": turn.person.id,
            "flow": flow.id,
            "status": ConversationStatus.PENDING,
            "group": 0,
            "group_count": 1,
            "all_now": False,
            "created_at": turn.now,
            "expires_at": planned.expires_at,
            "context": planned.context,
        },
        ["key"],
    )
    conv = await conversation_by_key(turn.session, planned.key)
    assert conv is not None
    if not created:
        return conv  # another process created it between our look and our insert
    await create_questions(turn, conv, flow)
    logger.info("conversation %s (%s) created for %s", conv.id, flow.id, turn.person.id)
    if await turn.open_conversation() is None:
        await begin(turn, conv)
    return conv


async def begin(turn: Turn, conv: Conversation) -> None:
    """Open the conversation: its introduction, then its first question."""
    flow = FLOWS[conv.flow]
    conv.status, conv.started_at = ConversationStatus.OPEN, turn.now
    turn.session.add(conv)
    if flow.intro:
        await turn.say(flow.intro, key=f"intro:{conv.id}", conversation=conv, **await texts_for(turn, conv))
    logger.info("conversation %s (%s) opened for %s", conv.id, conv.flow, turn.person.id)
    await advance(turn, conv)


async def continue_now(turn: Turn) -> Conversation | None:
    """Continue the open conversation now, or start the person's next planned one early."""
    conv = await turn.open_conversation()
    if conv is not None:
        question = await current_question(turn.session, conv)
        if question is None:
            await next_group(turn, conv)
        else:
            await ask(turn, question, conv, again=True)
        return conv
    for planned in await plan_for(turn.session, turn.person):
        if planned.expires_at is not None and planned.expires_at <= turn.now:
            continue
        if await conversation_by_key(turn.session, planned.key) is None:
            conv = await start(turn, planned)
            if conv.status == ConversationStatus.OPEN:
                return conv
    return None


async def advance(turn: Turn, conv: Conversation) -> None:
    """Ask the next question of today's group; at its end wait for the next working day."""
    questions = await turn.questions(conv)
    while True:
        pending = [q for q in questions if q.status == QuestionStatus.PENDING]
        today = [q for q in pending if q.group <= conv.group]
        if today:
            question = today[0]
            if not await applies(turn, question, conv, questions):
                question.status = QuestionStatus.NOT_APPLICABLE
                turn.session.add(question)
                continue
            await ask(turn, question, conv)
            return
        if not pending:
            await finish(turn, conv)
            return
        if conv.all_now:
            conv.group = min(q.group for q in pending)
            continue
        cal = await calendar_for(turn.session, turn.person)
        conv.current_question_id = None
        conv.next_group_at = cal.next_prompt_after(turn.now)
        turn.session.add(conv)
        await turn.say(
            N_(
                "Thank you! That is all for today. Your next questions come on {when}. Write now to continue at once."
            ),
            key=f"day-done:{conv.id}:{conv.group}",
            conversation=conv,
            when=await turn.local_moment(conv.next_group_at),
        )
        return


async def next_group(turn: Turn, conv: Conversation) -> None:
    """The next day's questions, now."""
    pending = [q for q in await turn.questions(conv) if q.status == QuestionStatus.PENDING]
    if pending:
        conv.group = min(q.group for q in pending)
    conv.next_group_at = None
    turn.session.add(conv)
    await advance(turn, conv)


async def finish(turn: Turn, conv: Conversation) -> None:
    conv.status, conv.finished_at, conv.current_question_id = ConversationStatus.DONE, turn.now, None
    turn.session.add(conv)
    flow = FLOWS[conv.flow]
    if flow.outro:
        await turn.say(flow.outro, key=f"outro:{conv.id}", conversation=conv)
    logger.info("conversation %s (%s) done for %s", conv.id, conv.flow, turn.person.id)
    await turn.session.flush()
    await begin_next_pending(turn)


async def begin_next_pending(turn: Turn) -> None:
    """One conversation at a time: the next one that fell due meanwhile starts now."""
    for conv in await pending_conversations(turn.session, turn.person.id):
        if conv.expires_at is not None and conv.expires_at <= turn.now:
            conv.status, conv.finished_at = ConversationStatus.EXPIRED, turn.now
            turn.session.add(conv)
            continue
        await begin(turn, conv)
        return


async def repeat_current(turn: Turn) -> None:
    """The question the open conversation waits for, asked again (after a pause or a correction)."""
    conv = await turn.open_conversation()
    question = await current_question(turn.session, conv)
    if conv is not None and question is not None:
        await ask(turn, question, conv, again=True)
