"""Commands a person can write in any flow: help, status, skip, pause, resume, now, all-now,
support, share, correct, consent, export, pairing, record (and, for coordinators, handled).

Which text is a command is `bot.command_parser`'s to say; `parse_command` is also importable from
here, where the platforms have always found it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, timedelta

from bot.answers import keep_shared_aha
from bot.command_parser import Command, parse_command
from bot.command_words import COMMAND_WORDS, COORDINATOR_WORDS, PARTICIPANT_WORDS, UNTIL, local_word
from bot.conversation import advance, continue_now, next_group, repeat_current
from bot.dates import day_and_month, parse_day
from bot.flows import CONSENT_CHOICES
from bot.i18n import N_, format_day
from bot.introductions import pairing_words
from bot.messages import Op, Outgoing
from bot.pairing_commands import pairing_command
from bot.plan import calendar_for
from bot.prompts import render
from bot.record_review import record_command
from bot.status import agenda_lines
from bot.support import handled_command, send_support_request
from bot.turn import Turn
from storage import audit
from storage.conversations import answered_in, current_question, latest_started
from storage.models import Answer, AuditKind, Conversation, Question, QuestionStatus
from storage.moments import moments_of
from storage.outbox import supersede_held_questions
from storage.pending_actions import Correction, SharedAha, SupportMessage

__all__ = ["Command", "parse_command", "run_command"]

CONSENT_WORDS = {"1": "named", "2": "anonymous", "3": "private"}

HELP_INTRO = N_("What you can write at any time:")
HELP_PRIVACY = N_("Your coordinators see your answers; the panel sees only what you agree to share.")
# What each command does, after the word as the person writes it (bot.command_words).
HELP_LINES = {
    "help": N_("this list"),
    "status": N_("where you are and what comes next"),
    "skip": N_("leave out the current question"),
    "pause": N_("no questions until that date ({pause} alone: until you write {resume})"),
    "resume": N_("continue after a pause"),
    "now": N_("get your next questions now instead of waiting"),
    "all-now": N_("answer all remaining questions now"),
    "support": N_("send a message to your coordinator"),
    "share": N_("keep an aha moment for the panel"),
    "correct": N_("change an earlier answer"),
    "consent": N_("change what the panel may hear"),
    "export": N_("your data, sent to you here"),
    "handled": N_("mark support request 12 as dealt with"),
    "pairing": N_("take part in pairing with colleagues, or not, or take a break"),
    "record": N_("your learning record: what it holds, and what to leave out"),
}
# Shown after the word: what it takes.
HELP_ARGUMENTS = {"handled": "12"}


def command_list(turn: Turn) -> str:
    """The commands this person can use, each as they write it in their language."""
    words = COORDINATOR_WORDS if turn.person.role == "coordinator" else PARTICIPANT_WORDS
    lines = [turn.t(HELP_INTRO)]
    for word in words:
        spelled = local_word(turn.language, COMMAND_WORDS[word])
        if word == "pause":
            example = f"{spelled} {local_word(turn.language, UNTIL)} 2027-03-01"
            description = turn.t(
                HELP_LINES[word], pause=spelled, resume=local_word(turn.language, COMMAND_WORDS["resume"])
            )
            lines.append(f"{example}: {description}")
            continue
        if word == "pairing":
            spelled = " | ".join(pairing_words(turn.language, date(2027, 3, 1)).values())
        argument = f" {HELP_ARGUMENTS[word]}" if word in HELP_ARGUMENTS else ""
        lines.append(f"{spelled}{argument}: {turn.t(HELP_LINES[word])}")
    if any(local_word(turn.language, COMMAND_WORDS[w]) != w for w in words):
        lines.append(turn.t(N_("The English words work too: {words}"), words=", ".join(words)))
    if turn.person.role != "coordinator":
        lines.append(turn.t(HELP_PRIVACY))
    return "\n".join(lines)


async def run_command(turn: Turn, command: Command) -> None:
    handler = _HANDLERS[command.word]
    await handler(turn, command)


async def _help(turn: Turn, _c: Command) -> None:
    await turn.say(command_list(turn).replace("{", "{{").replace("}", "}}"))


async def _status(turn: Turn, _c: Command) -> None:
    lines = []
    if turn.person.paused:
        until = turn.person.paused_until
        lines.append(
            turn.t(N_("You are paused until {date}."), date=format_day(turn.language, until))
            if until
            else turn.t(N_("You are paused. Write {cmd_resume} to continue."))
        )
    lines.extend(await agenda_lines(turn))
    await turn.say("\n".join(lines).replace("{", "{{").replace("}", "}}"))


async def _skip(turn: Turn, _c: Command) -> None:
    conv = await turn.open_conversation()
    question = await current_question(turn.session, conv)
    if conv is None or question is None:
        await turn.say(N_("There is no question to skip right now."))
        return
    question.status = QuestionStatus.SKIPPED
    turn.session.add(question)
    await turn.say(N_("Skipped."))
    await advance(turn, conv)


async def _pause(turn: Turn, command: Command) -> None:
    raw = command.args[0] if command.args else None
    today = (await calendar_for(turn.session, turn.person)).local_date(turn.now)
    # The examples: a day two weeks ahead, written the way the person writes commands.
    ahead = today + timedelta(days=14)
    pause, until_word = (local_word(turn.language, w) for w in (COMMAND_WORDS["pause"], UNTIL))
    sample = f"{pause} {until_word} {ahead.isoformat()}"
    later = day_and_month(turn.language, ahead)
    if command.rest and raw is None:
        await turn.say(PAUSE_UNREAD, date=command.rest, example=sample, day=later)
        return
    until = None
    if raw:
        until = parse_day(raw, turn.language, today)
        if until is None:
            await turn.say(PAUSE_UNREAD, date=raw, example=sample, day=later)
            return
        if until <= today:
            await turn.say(
                N_("{date} is not ahead of us. Write a date after today, for example: {example}"),
                date=format_day(turn.language, until),
                example=sample,
            )
            return
    turn.person.paused, turn.person.paused_until = True, until
    turn.session.add(turn.person)
    if until:
        await turn.say(
            N_("Paused until {date}. Write {cmd_resume} to continue earlier."),
            date=format_day(turn.language, until),
        )
    else:
        await turn.say(N_("Paused. Write {cmd_resume} when you want to continue."))


PAUSE_UNREAD = N_(
    "I could not read “{date}” as a date. Write it for example like this: {example} (or the day and month, as in {day})."
)


async def _resume(turn: Turn, _c: Command) -> None:
    was_paused = turn.person.paused
    turn.person.paused, turn.person.paused_until = False, None
    turn.session.add(turn.person)
    if was_paused:
        # Questions held during the pause are replaced by the one that is current now, asked
        # again after the greeting, so the person does not get a burst of stale prompts.
        await supersede_held_questions(turn.session, turn.person.id)
    await turn.say(N_("Welcome back!") if was_paused else N_("You are not paused."))
    if was_paused:
        await repeat_current(turn)


async def _now(turn: Turn, _c: Command) -> None:
    if await continue_now(turn) is None:
        await turn.say(N_("There are no more reflections planned for you. Thank you!"))


async def _all_now(turn: Turn, _c: Command) -> None:
    conv = await turn.open_conversation()
    if conv is None:
        conv = await continue_now(turn)
        if conv is None:
            await turn.say(N_("There are no more reflections planned for you. Thank you!"))
            return
    conv.all_now = True
    turn.session.add(conv)
    await turn.say(N_("All right: all remaining questions now."))
    if conv.current_question_id is None:
        await next_group(turn, conv)


async def _support(turn: Turn, command: Command) -> None:
    if command.rest:
        await send_support_request(turn, command.rest, await turn.open_conversation())
        return
    turn.person.pending_action = SupportMessage()
    turn.session.add(turn.person)
    await turn.say(N_("What would you like your coordinator to know? (write cancel to send nothing)"))


async def _share(turn: Turn, command: Command) -> None:
    if command.rest:
        await keep_shared_aha(turn, command.rest)
        return
    turn.person.pending_action = SharedAha()
    turn.session.add(turn.person)
    await turn.say(N_("What is the aha moment you would like to keep? (write cancel to keep nothing)"))


EXPORT_INTRO = N_("Everything reflectbot keeps about you, as JSON:")


async def _export(turn: Turn, _c: Command) -> None:
    """The person's own data, in their own chat. It is read when it is sent, so that it holds
    everything up to that moment, and never stored on the way."""
    export = Outgoing(
        person_id=turn.person.id,
        text=turn.t(EXPORT_INTRO),
        language=turn.language,
        always=True,
        op=Op.DELIVER_EXPORT,
    )
    key = turn.key("export")
    await turn.send(export, key)
    await audit.record(
        turn.session,
        AuditKind.EXPORT,
        actor=audit.person(turn.person.id),
        person_id=turn.person.id,
        detail={"outbox": key},
    )


async def _answered(turn: Turn) -> list[tuple[Question, Answer]]:
    """The answers `correct` offers: those of the open conversation, else of the latest one."""
    conv = await turn.open_conversation() or await latest_started(turn.session, turn.person.id)
    if conv is None or conv.id is None:
        return []
    return await answered_in(turn.session, conv.id)


async def _correct(turn: Turn, command: Command) -> None:
    answered = await _answered(turn)
    if not answered:
        await turn.say(N_("You have no answers to correct yet."))
        return
    number = int(command.args[0]) if command.args and command.args[0] else None
    if number is None or not 1 <= number <= len(answered):
        listing = "\n".join(f"{i}. {q.text} → {a.text}" for i, (q, a) in enumerate(answered, 1))
        await turn.say(
            N_(
                "Which answer do you want to change? Write {cmd_correct} and its number, e.g. {cmd_correct} 2.\n{answers}"
            ),
            answers=listing,
        )
        return
    question, _answer = answered[number - 1]
    assert question.id is not None
    conv = await turn.session.get(Conversation, question.conversation_id)
    assert conv is not None
    turn.person.pending_action = Correction(question.id)
    turn.session.add(turn.person)
    out = await render(turn, question, conv)
    await turn.send(replace(out, always=True), turn.key(f"correct:{question.id}"), conv, question)


async def _consent(turn: Turn, command: Command) -> None:
    moments = await moments_of(turn.session, turn.person.id)
    if not moments:
        await turn.say(N_("You have not shared any aha moments yet."))
        return
    labels = {v: turn.t(label) for v, label in CONSENT_CHOICES}
    number, choice = (*command.args, None, None)[:2]
    if number and choice and 1 <= int(number) <= len(moments):
        aha = moments[int(number) - 1]
        aha.consent = CONSENT_WORDS.get(choice, choice)
        turn.session.add(aha)
        await turn.say(N_("Changed: “{text}” → {consent}"), text=aha.text, consent=labels[aha.consent])
        return
    listing = "\n".join(
        f"{i}. “{m.text}” → {labels.get(m.consent, m.consent)}" for i, m in enumerate(moments, 1)
    )
    await turn.say(
        N_(
            "What the panel may hear. To change one, write {cmd_consent}, its number and named, anonymous or private, e.g. {cmd_consent} 1 anonymous.\n{moments}"
        ),
        moments=listing,
    )


_HANDLERS: dict[str, Callable[[Turn, Command], Awaitable[None]]] = {
    "help": _help,
    "status": _status,
    "skip": _skip,
    "pause": _pause,
    "resume": _resume,
    "now": _now,
    "all-now": _all_now,
    "support": _support,
    "correct": _correct,
    "consent": _consent,
    "handled": handled_command,
    "share": _share,
    "export": _export,
    "pairing": pairing_command,
    "record": record_command,
}
