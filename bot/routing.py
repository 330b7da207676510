"""What a reply is: a button, an answer tagged with its question, a command, the second half of a
command, or an answer to the question the open conversation waits for."""

from __future__ import annotations

import logging

from bot.actions import run_action
from bot.answers import answer_again, answer_and_advance, keep_shared_aha
from bot.command_parser import parse_command
from bot.command_words import COMMAND_WORDS, YES, is_yes, local_word, near_command
from bot.commands import command_list, run_command
from bot.conversation import repeat_current
from bot.i18n import N_
from bot.messages import Incoming
from bot.support import send_support_request
from bot.turn import Turn
from storage.conversations import current_question
from storage.models import Conversation, ConversationStatus, Question, QuestionStatus
from storage.notes import keep_note
from storage.pending_actions import Correction, MaybeAnswer, PendingAction, SharedAha, SupportMessage

logger = logging.getLogger(__name__)


# What someone who left the programme can still do: see and take what they wrote, and change
# what the panel may hear of it.
STILL_OPEN_TO_LEAVERS = ("help", "status", "export", "consent")


async def take(turn: Turn, incoming: Incoming) -> None:
    if incoming.action is not None:
        await run_action(turn, incoming.action)
        return
    if turn.person.left_at is not None:
        await take_from_leaver(turn, incoming)
        return
    if incoming.question_id is not None:
        await take_tagged(turn, incoming)
        return
    text = (incoming.text or "").strip()
    command = parse_command(text, explicit=incoming.is_command, language=turn.language)
    if command is not None:
        if isinstance(turn.person.pending_action, MaybeAnswer):
            turn.person.pending_action = None  # they wrote the command they meant
            turn.session.add(turn.person)
        await run_command(turn, command)
        return
    pending = turn.person.pending_action
    if isinstance(pending, MaybeAnswer):
        turn.person.pending_action = None
        turn.session.add(turn.person)
        if is_yes(text, turn.language):
            await take_confirmed(turn, pending, incoming.platform)
            return
        # Anything else is a message of its own: the guess is dropped, unstored.
    elif pending is not None:
        await take_second_half(turn, pending, text, incoming.platform)
        return
    if text.startswith("/") or incoming.is_command:
        # Meant as a command but none of ours: never an answer, never a note.
        refusal = turn.t(N_("That is not a command I know.")) + "\n" + command_list(turn)
        await turn.say(refusal.replace("{", "{{").replace("}", "}}"))
        return
    conv = await turn.open_conversation()
    question = await current_question(turn.session, conv)
    meant = near_command(text, turn.language)
    if meant is not None:
        await ask_if_meant(turn, meant, text, question)
        return
    if conv is None or question is None:
        await nothing_to_answer(turn, conv, text, incoming.platform)
        return
    await answer_and_advance(turn, question, conv, text, None, incoming.platform)


async def ask_if_meant(turn: Turn, meant: str, text: str, question: Question | None) -> None:
    """A word a small edit from a command: asked about, and kept only if it was an answer."""
    turn.person.pending_action = MaybeAnswer(question.id if question else None, text)
    turn.session.add(turn.person)
    await turn.say(
        N_("Did you mean {command}? Write {command} to do that. If “{text}” was your answer, write {yes}."),
        command=local_word(turn.language, COMMAND_WORDS[meant]),
        text=text,
        yes=local_word(turn.language, YES),
    )


async def take_confirmed(turn: Turn, pending: MaybeAnswer, platform: str) -> None:
    """The person said the word was an answer: to the question it came to, if that still
    waits; otherwise it is kept as their note."""
    conv = await turn.open_conversation()
    question = await current_question(turn.session, conv)
    if conv is not None and question is not None and question.id == pending.question_id:
        await answer_and_advance(turn, question, conv, pending.text, None, platform)
        return
    await nothing_to_answer(turn, conv, pending.text, platform)


async def nothing_to_answer(turn: Turn, conv: Conversation | None, text: str, platform: str) -> None:
    """A message that answers no question is the person's note: kept, never thrown away, and
    they are told where it went and how to get their next questions early."""
    if text:
        note = await keep_note(turn.session, turn.person.id, text, turn.now, platform)
        logger.info("note %s kept for %s", note.id, turn.person.id)
    if conv is not None and conv.next_group_at is not None:
        await turn.say(
            N_(
                "Kept as a note in your reflections (your coordinators see it in their digest; {cmd_export} shows it). Your next questions come on {when}; write {cmd_now} to get them at once."
            )
            if text
            else N_("Thank you! Your next questions come on {when}. Write {cmd_now} to continue at once."),
            when=await turn.local_moment(conv.next_group_at),
        )
    elif text:
        await turn.say(
            N_(
                "Kept as a note in your reflections (your coordinators see it in their digest; {cmd_export} shows it). Write {cmd_now} to start your next reflection early, or {cmd_help} to see what you can do."
            )
        )
    else:
        await turn.say(
            N_(
                "There is nothing to answer right now. Write {cmd_now} to start your next reflection early, or {cmd_help} to see what you can do."
            )
        )


async def take_from_leaver(turn: Turn, incoming: Incoming) -> None:
    """Someone no longer in the programme file is asked nothing more; what they write is still
    kept (as a note), and they can still export it."""
    text = (incoming.text or "").strip()
    command = parse_command(text, explicit=incoming.is_command, language=turn.language)
    if command is not None and command.word in STILL_OPEN_TO_LEAVERS:
        await run_command(turn, command)
        return
    if text and command is None and not text.startswith("/") and incoming.question_id is None:
        note = await keep_note(turn.session, turn.person.id, text, turn.now, incoming.platform)
        logger.info("note %s kept for %s, who left the programme", note.id, turn.person.id)
        await turn.say(
            N_(
                "You are no longer in this programme's list, so I ask you nothing more. I kept your message as a note; write {cmd_export} to get everything you wrote."
            )
        )
        return
    await turn.say(
        N_(
            "You are no longer in this programme's list, so I ask you nothing more. Write {cmd_export} to get everything you wrote; your coordinator can add you again."
        )
    )


async def take_tagged(turn: Turn, incoming: Incoming) -> None:
    """A click or form that names its question: the current one, or one asked before."""
    question = await turn.session.get(Question, incoming.question_id)
    if question is None or question.person_id != turn.person.id:
        await turn.say(
            N_("I could not match that to one of your questions. Write {cmd_status} to see where we are.")
        )
        return
    if question.status in (QuestionStatus.PENDING, QuestionStatus.NOT_APPLICABLE):
        await turn.say(N_("That question has not been asked yet."))
        return
    conv = await turn.session.get(Conversation, question.conversation_id)
    assert conv is not None
    pending = turn.person.pending_action
    if isinstance(pending, Correction) and pending.question_id == question.id:
        turn.person.pending_action = None
        turn.session.add(turn.person)
    if conv.status == ConversationStatus.OPEN and conv.current_question_id == question.id:
        await answer_and_advance(turn, question, conv, incoming.text, incoming.values, incoming.platform)
        return
    await answer_again(turn, question, conv, incoming.text, incoming.values, incoming.platform)


async def take_second_half(turn: Turn, pending: PendingAction, text: str, platform: str) -> None:
    turn.person.pending_action = None
    turn.session.add(turn.person)
    if text.casefold() in ("cancel", turn.t(N_("cancel")).casefold()):
        await turn.say(N_("Cancelled."))
        return
    match pending:
        case SupportMessage():
            await send_support_request(turn, text, None)
        case SharedAha():
            await keep_shared_aha(turn, text)
        case MaybeAnswer():
            pass  # taken before any second half (bot.routing.take)
        case Correction(question_id=question_id):
            question = await turn.session.get(Question, question_id)
            if question is None:
                return
            conv = await turn.session.get(Conversation, question.conversation_id)
            assert conv is not None
            if not await answer_again(turn, question, conv, text, None, platform):
                turn.person.pending_action = pending  # still waiting for an answer that fits
                return
            await repeat_current(turn)
