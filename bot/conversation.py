"""A conversation's life: created once from its plan, opened (one at a time per person, chosen by
the person's agenda, `bot.agenda`), set aside for one with an earlier deadline and resumed after
it, advanced question by question and day by day, and closed, after which the next one opens."""

from __future__ import annotations

import logging

from bot.agenda import comes_before, next_of
from bot.flows import FLOWS
from bot.i18n import N_
from bot.plan import Planned, calendar_for, plan_for
from bot.prompts import ask
from bot.questions import applies, create_questions, quote_what_it_follows, texts_for
from bot.turn import Turn
from storage.conversations import conversation_by_key, current_question, waiting_conversations
from storage.models import Conversation, ConversationStatus, QuestionStatus
from storage.outbox import insert_once

logger = logging.getLogger(__name__)


async def start(turn: Turn, planned: Planned) -> Conversation:
    """Create the planned conversation (once, however many processes try) and open it, unless
    the one open now comes first on the person's agenda (`open_unless_later`). Many at once:
    `bot.starts`."""
    existing = await conversation_by_key(turn.session, planned.key)
    if existing is not None:
        return existing
    created = await insert_once(turn.session, Conversation, new_conversation(turn, planned), ["key"])
    conv = await conversation_by_key(turn.session, planned.key)
    assert conv is not None
    if not created:
        return conv  # another process created it between our look and our insert
    await create_questions(turn, conv, FLOWS[conv.flow])
    logger.info("conversation %s (%s) created for %s", conv.id, conv.flow, turn.person.id)
    await open_unless_later(turn, conv, await turn.open_conversation())
    return conv


def new_conversation(turn: Turn, planned: Planned) -> dict[str, object]:
    """The row of a planned conversation as it is created: pending, its questions not made yet."""
    return {
        "key": planned.key,
        "person_id": turn.person.id,
        "flow": FLOWS[planned.flow].id,
        "status": ConversationStatus.PENDING,
        "group": 0,
        "group_count": 1,
        "all_now": False,
        "answered": False,
        "created_at": turn.now,
        "expires_at": planned.expires_at,
        "context": planned.context,
    }


async def open_unless_later(turn: Turn, conv: Conversation, current: Conversation | None) -> None:
    """A conversation just created opens now, unless `current` (the one open now) comes first on
    the person's agenda; an open one with a later deadline is set aside until this one is done."""
    if current is None:
        await begin(turn, conv)
    elif comes_before(conv, current):
        await set_aside(turn, current, conv)
        await begin(turn, conv)


async def set_aside(turn: Turn, current: Conversation, first: Conversation) -> None:
    """The open conversation waits, its place kept (the question it asked stays asked, not
    reminded), while `first` is asked; the person is told in one line."""
    current.status = ConversationStatus.WAITING
    turn.session.add(current)
    await turn.say(
        N_(
            "First the {first}, which cannot wait. Your {waiting} waits and continues afterwards where you left off."
        ),
        key=f"set-aside:{current.id}:{first.id}",
        conversation=current,
        first=turn.t(FLOWS[first.flow].title),
        waiting=turn.t(FLOWS[current.flow].title),
    )
    logger.info("conversation %s of %s waits for %s", current.id, turn.person.id, first.id)
    await turn.session.flush()


async def resume(turn: Turn, conv: Conversation) -> None:
    """A conversation that waited goes on where it was: its question asked again (reminders
    count from now), or its next day's questions when they are due."""
    conv.status = ConversationStatus.OPEN
    turn.session.add(conv)
    logger.info("conversation %s (%s) resumed for %s", conv.id, conv.flow, turn.person.id)
    question = await current_question(turn.session, conv)
    if conv.next_group_at is not None and conv.next_group_at > turn.now:
        await turn.say(
            N_("Your {flow} continues on {when}."),
            key=f"resume:{conv.id}:{turn.now.isoformat()}",
            conversation=conv,
            flow=turn.t(FLOWS[conv.flow].title),
            when=await turn.local_moment(conv.next_group_at),
        )
        return
    await turn.say(
        N_("Back to your {flow}, where you left off."),
        key=f"resume:{conv.id}:{turn.now.isoformat()}",
        conversation=conv,
        flow=turn.t(FLOWS[conv.flow].title),
    )
    if question is not None and question.status == QuestionStatus.ASKED:
        question.asked_at = turn.now
        await ask(turn, question, conv, again=True)
    elif conv.next_group_at is not None:
        await next_group(turn, conv)
    else:
        await advance(turn, conv)


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
    opened = await begin_next(turn)
    if opened is not None:
        return opened
    for planned in await plan_for(turn.session, turn.person):
        if not planned.can_start(turn.now):
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
            await quote_what_it_follows(turn, question, conv, questions)
            await ask(turn, question, conv)
            return
        if not pending:
            await finish(turn, conv)
            return
        if conv.all_now:
            conv.group = min(q.group for q in pending)
            continue
        cal = await calendar_for(turn.session, turn.person, turn.now)
        conv.current_question_id = None
        conv.next_group_at = cal.next_prompt_after(turn.now)
        turn.session.add(conv)
        await turn.say(
            N_(
                "Thank you! That is all for today. Your next questions come on {when}. Write {cmd_now} to continue at once."
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
    await begin_next(turn)


async def begin_next(turn: Turn) -> Conversation | None:
    """One conversation at a time: the next on the agenda (one that waited, or fell due
    meanwhile) goes on now. One past its deadline is left to the expiry sweep, which knows
    whether it had its chance."""
    if await turn.open_conversation() is not None:
        return None
    conv = next_of(await waiting_conversations(turn.session, turn.person.id), turn.now)
    if conv is None:
        return None
    if conv.status == ConversationStatus.WAITING:
        await resume(turn, conv)
    else:
        await begin(turn, conv)
    return conv


async def repeat_current(turn: Turn) -> None:
    """The question the open conversation waits for, asked again (after a pause or a correction)."""
    conv = await turn.open_conversation()
    question = await current_question(turn.session, conv)
    if conv is not None and question is not None:
        await ask(turn, question, conv, again=True)
