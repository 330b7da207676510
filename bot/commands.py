"""Commands a person can write in any flow: help, status, skip, pause, resume, now, all-now,
support, correct and consent.

A command is the command word alone, or with arguments of the exact shape it takes, so that an
answer that happens to begin with "support" or "now" is still taken as an answer.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlmodel import col, select

from bot.calendar import WorkCalendar
from bot.engine import Turn, coordinators_of, record_support
from bot.flows import CONSENT_CHOICES, FLOWS
from bot.i18n import N_, format_day, format_moment
from bot.messages import Op, Outgoing
from bot.plan import calendar_for
from bot.support import MARK_HANDLED, handled_button, handled_command
from storage.models import (
    AhaMoment,
    Answer,
    Conversation,
    OutboxMessage,
    Panel,
    PanelPresenter,
    Programme,
    Question,
)

WORDS = (
    "help",
    "status",
    "skip",
    "pause",
    "resume",
    "now",
    "all-now",
    "support",
    "correct",
    "consent",
    "handled",
    "share",
    "export",
)
_DATE = r"\d{4}-\d{2}-\d{2}"
_SHAPES = {
    "pause": re.compile(rf"^(?:until\s+)?({_DATE})?$"),
    "correct": re.compile(r"^(\d+)?$"),
    "consent": re.compile(r"^(?:(\d+)(?:\s+(named|anonymous|private|1|2|3))?)?$"),
    "handled": re.compile(r"^(\d+)?$"),
}
CONSENT_WORDS = {"1": "named", "2": "anonymous", "3": "private"}

HELP = N_(
    "What you can write at any time:\n"
    "help: this list\n"
    "status: where you are and what comes next\n"
    "skip: leave out the current question\n"
    "pause until 2027-03-01: no questions until that date (pause alone: until you write resume)\n"
    "resume: continue after a pause\n"
    "now: get your next questions now instead of waiting\n"
    "all-now: answer all remaining questions now\n"
    "support: send a message to your coordinator\n"
    "share: keep an aha moment for the panel\n"
    "correct: change an earlier answer\n"
    "consent: change what the panel may hear\n"
    "handled 12: (coordinators) mark support request 12 as dealt with\n"
    "Your coordinators see your answers; the panel sees only what you agree to share."
)


@dataclass(frozen=True)
class Command:
    word: str
    args: tuple[str | None, ...] = ()
    rest: str = ""


def parse_command(text: str, explicit: bool = False) -> Command | None:
    words = text.strip().lstrip("/").split(maxsplit=1)
    if words and words[0].casefold() == "reflect":
        words = words[1].split(maxsplit=1) if len(words) > 1 else ["help"]
        explicit = True
    if not words:
        return Command("help") if explicit else None
    word = words[0].casefold().replace("_", "-")
    word = {"allnow": "all-now", "all": "all-now" if text.strip().casefold() == "all now" else "all"}.get(
        word, word
    )
    rest = words[1].strip() if len(words) > 1 and word != "all-now" else ""
    if word not in WORDS:
        return None
    if word in ("support", "share"):
        if rest and not explicit:
            return None
        return Command(word, rest=rest)
    shape = _SHAPES.get(word)
    if shape is None:
        return Command(word) if not rest else None
    match = shape.match(rest.casefold())
    if match is None:
        return Command(word, rest=rest) if explicit else None
    return Command(word, match.groups())


async def run_command(turn: Turn, command: Command) -> None:
    handler = _HANDLERS[command.word]
    await handler(turn, command)


async def _help(turn: Turn, _c: Command) -> None:
    await turn.say(HELP)


async def _status(turn: Turn, _c: Command) -> None:
    conv = await turn.open_conversation()
    cal = await calendar_for(turn.session, turn.person)
    lines = []
    if turn.person.paused:
        until = turn.person.paused_until
        lines.append(
            turn.t(N_("You are paused until {date}."), date=format_day(turn.language, until))
            if until
            else turn.t(N_("You are paused. Write resume to continue."))
        )
    if conv is None:
        lines.append(turn.t(N_("No reflection is open right now.")))
    else:
        questions = (
            await turn.session.exec(select(Question).where(Question.conversation_id == conv.id))
        ).all()
        applicable = [q for q in questions if q.status != "not_applicable"]
        done = sum(1 for q in applicable if q.status in ("answered", "skipped"))
        lines.append(
            turn.t(
                N_("{flow}: {done} of {total} questions answered."),
                flow=turn.t(FLOWS[conv.flow].title),
                done=done,
                total=len(applicable),
            )
        )
        if conv.next_group_at is not None:
            lines.append(
                turn.t(
                    N_("Your next questions come on {when}."),
                    when=format_moment(turn.language, conv.next_group_at.astimezone(cal.zone)),
                )
            )
    await turn.say("\n".join(lines).replace("{", "{{").replace("}", "}}"))


async def _skip(turn: Turn, _c: Command) -> None:
    conv = await turn.open_conversation()
    question = (
        await turn.session.get(Question, conv.current_question_id)
        if conv and conv.current_question_id
        else None
    )
    if conv is None or question is None:
        await turn.say(N_("There is no question to skip right now."))
        return
    question.status = "skipped"
    turn.session.add(question)
    await turn.say(N_("Skipped."))
    await turn.advance(conv)


async def _pause(turn: Turn, command: Command) -> None:
    raw = command.args[0] if command.args else None
    if command.rest and raw is None:
        await turn.say(N_("Please give the date like this: pause until 2027-03-01"))
        return
    until = None
    if raw:
        try:
            until = date.fromisoformat(raw)
        except ValueError:
            await turn.say(N_("Please give the date like this: pause until 2027-03-01"))
            return
    turn.person.paused, turn.person.paused_until = True, until
    turn.session.add(turn.person)
    if until:
        await turn.say(
            N_("Paused until {date}. Write resume to continue earlier."),
            date=format_day(turn.language, until),
        )
    else:
        await turn.say(N_("Paused. Write resume when you want to continue."))


async def _resume(turn: Turn, _c: Command) -> None:
    was_paused = turn.person.paused
    turn.person.paused, turn.person.paused_until = False, None
    turn.session.add(turn.person)
    if was_paused:
        # Questions held during the pause are replaced by the one that is current now, asked
        # again after the greeting, so the person does not get a burst of stale prompts.
        await turn.session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(
                col(OutboxMessage.person_id) == turn.person.id,
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.question_id).is_not(None),
            )
            .values(status="superseded")
        )
    await turn.say(N_("Welcome back!") if was_paused else N_("You are not paused."))
    if was_paused:
        await turn.repeat_current()


async def _now(turn: Turn, _c: Command) -> None:
    if await turn.continue_now() is None:
        await turn.say(N_("There are no more reflections planned for you. Thank you!"))


async def _all_now(turn: Turn, _c: Command) -> None:
    conv = await turn.open_conversation()
    if conv is None:
        conv = await turn.continue_now()
        if conv is None:
            await turn.say(N_("There are no more reflections planned for you. Thank you!"))
            return
    conv.all_now = True
    turn.session.add(conv)
    await turn.say(N_("All right: all remaining questions now."))
    if conv.current_question_id is None:
        await turn.next_group(conv)


async def _support(turn: Turn, command: Command) -> None:
    if command.rest:
        await send_support_request(turn, command.rest, await turn.open_conversation())
        return
    turn.person.pending_action = {"action": "support"}
    turn.session.add(turn.person)
    await turn.say(N_("What would you like your coordinator to know? (write cancel to send nothing)"))


async def _share(turn: Turn, command: Command) -> None:
    if command.rest:
        await keep_shared_aha(turn, command.rest)
        return
    turn.person.pending_action = {"action": "share"}
    turn.session.add(turn.person)
    await turn.say(N_("What is the aha moment you would like to keep? (write cancel to keep nothing)"))


async def keep_shared_aha(turn: Turn, text: str) -> None:
    """An aha moment written outside any flow. It stays private until the person says otherwise."""
    upcoming = (
        await turn.session.exec(
            select(Panel.id)
            .join(PanelPresenter, col(PanelPresenter.panel_id) == Panel.id)
            .where(PanelPresenter.person_id == turn.person.id, col(Panel.at) > turn.now)
            .order_by(col(Panel.at))
        )
    ).first()
    turn.session.add(
        AhaMoment(
            person_id=turn.person.id,
            kind="aha",
            consent="private",
            panel_id=upcoming,
            text=text,
            created_at=turn.now,
        )
    )
    await turn.session.flush()
    count = len(
        (await turn.session.exec(select(AhaMoment.id).where(AhaMoment.person_id == turn.person.id))).all()
    )
    await turn.say(
        N_(
            "Kept. The panel will not hear it unless you allow it: write consent {number} named or consent {number} anonymous."
        ),
        number=count,
    )


async def send_support_request(turn: Turn, text: str, conv: Conversation | None) -> None:
    request = await record_support(turn.session, turn.person, text, conv, turn.now)
    coordinators = await coordinators_of(turn.session, turn.person)
    programme = await turn.session.get(Programme, turn.person.programme_id)
    assert programme is not None
    for coordinator in coordinators:
        language = coordinator.language or programme.language
        zone = WorkCalendar(coordinator.timezone or programme.timezone).zone
        alert = Outgoing(
            person_id=coordinator.id,
            kind="alert",
            language=language,
            always=True,
            text=turn.engine.translator.gettext(
                language,
                N_("{name} asks for support ({when}): “{text}”"),
                name=turn.person.name,
                when=format_moment(language, turn.now.astimezone(zone)),
                text=text or "",
            )
            + "\n"
            + turn.engine.translator.gettext(
                language,
                N_("Support request {id}. Once it is dealt with, mark it handled or write handled {id}."),
                id=request.id,
            ),
            actions=(handled_button(request.id, turn.engine.translator.gettext(language, MARK_HANDLED)),),  # type: ignore[arg-type]
        )
        await turn.send(alert, f"support:{request.id}:{coordinator.id}")
    if coordinators:
        await turn.say(
            N_("Your coordinators have been told: {names}."), names=", ".join(c.name for c in coordinators)
        )
    else:
        await turn.say(N_("I could not find a coordinator for you. Please contact your programme directly."))


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
    await turn.send(export, f"export:{turn.person.id}:{uuid.uuid4()}")


async def _answered(turn: Turn) -> list[tuple[Question, Answer]]:
    conv = await turn.open_conversation()
    if conv is None:
        conv = (
            await turn.session.exec(
                select(Conversation)
                .where(Conversation.person_id == turn.person.id, Conversation.started_at != None)  # noqa: E711
                .order_by(col(Conversation.started_at).desc())
            )
        ).first()
    if conv is None:
        return []
    rows = await turn.session.exec(
        select(Question, Answer)
        .join(Answer, col(Answer.question_id) == Question.id)
        .where(Question.conversation_id == conv.id)
        .order_by(col(Question.position))
    )
    return list(rows.all())


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
                "Which answer do you want to change? Write correct and its number, e.g. correct 2.\n{answers}"
            ),
            answers=listing,
        )
        return
    question, _answer = answered[number - 1]
    conv = await turn.session.get(Conversation, question.conversation_id)
    assert conv is not None
    turn.person.pending_action = {"action": "correct", "question_id": question.id}
    turn.session.add(turn.person)
    out = await turn.render(question, conv)
    await turn.send(
        Outgoing(**{**out.__dict__, "always": True}), f"correct:{question.id}:{uuid.uuid4()}", conv, question
    )


async def _consent(turn: Turn, command: Command) -> None:
    moments = list(
        (
            await turn.session.exec(
                select(AhaMoment).where(AhaMoment.person_id == turn.person.id).order_by(col(AhaMoment.id))
            )
        ).all()
    )
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
            "What the panel may hear. To change one, write consent, its number and named, anonymous or private, e.g. consent 1 anonymous.\n{moments}"
        ),
        moments=listing,
    )


_HANDLERS = {
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
}
