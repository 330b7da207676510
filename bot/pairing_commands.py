"""`pairing`, `pairing on`, `pairing off`, `pairing pause until DATE`, and the invitation's
buttons: what a person says about being paired. It counts from the next round on."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import action
from bot.command_parser import Command
from bot.dates import parse_day
from bot.i18n import N_, format_day
from bot.introductions import pairing_words
from bot.plan import calendar_for
from bot.turn import Turn
from storage.pairing_tables import PairingSettings
from storage.pairs import choice_of, set_choice

JOINED = N_("You take part in pairing from the next round on. Write {off} to stop at any time.")
LEFT = N_("You will not be paired any more. Write {on} if you change your mind.")
PAUSED = N_("No new pair for you until {date}. Write {on} to take part again earlier.")
NOT_A_DATE = N_("I could not read “{date}” as a date. Write it for example like this: {example}")
NOT_AHEAD = N_("{date} is not ahead of us. Write a date after today, for example: {example}")
STATE_IN = N_("You take part in pairing. Write {off} to stop, or {pause} to take a break.")
STATE_OUT = N_("You do not take part in pairing. Write {on} to take part.")
STATE_PAUSED = N_("Pairing is paused for you until {date}. Write {on} to take part again.")
NO_PAIRING = N_("{programme} pairs no one at the moment.")


def _words(turn: Turn) -> dict[str, str]:
    return pairing_words(turn.language, turn.now.date() + timedelta(days=28))


async def pairing_command(turn: Turn, command: Command) -> None:
    settings = await turn.session.get(PairingSettings, turn.person.programme_id)
    if settings is None:
        await turn.say(NO_PAIRING, programme=turn.programme.name)
        return
    words = _words(turn)
    sub = command.args[0] if command.args else None
    if sub in ("on", "off"):
        await _choose(turn, sub)
        return
    if sub == "pause":
        await _pause(turn, command.args[1] if len(command.args) > 1 else None)
        return
    choice = await choice_of(turn.session, turn.person.id)
    today = (await calendar_for(turn.session, turn.person)).local_date(turn.now)
    if choice is not None and choice.choice == "in" and choice.paused_until and choice.paused_until > today:
        await turn.say(STATE_PAUSED, date=format_day(turn.language, choice.paused_until), on=words["on"], off=words["off"], pause=words["pause"])
    elif (choice is not None and choice.choice == "in") or (choice is None and settings.ask == "opt-out"):
        await turn.say(STATE_IN, on=words["on"], off=words["off"], pause=words["pause"])
    else:
        await turn.say(STATE_OUT, on=words["on"], off=words["off"], pause=words["pause"])


async def _choose(turn: Turn, sub: str) -> None:
    await set_choice(turn.session, turn.person.id, turn.now, choice="in" if sub == "on" else "out")
    words = _words(turn)
    await turn.say(JOINED if sub == "on" else LEFT, on=words["on"], off=words["off"])


async def _pause(turn: Turn, raw: str | None) -> None:
    words = _words(turn)
    today = (await calendar_for(turn.session, turn.person)).local_date(turn.now)
    example = words["pause"]
    until = parse_day(raw, turn.language, today) if raw else None
    if until is None:
        await turn.say(NOT_A_DATE, date=raw or "", example=example)
        return
    if until <= today:
        await turn.say(NOT_AHEAD, date=format_day(turn.language, until), example=example)
        return
    await set_choice(turn.session, turn.person.id, turn.now, paused_until=until)
    await turn.say(PAUSED, date=format_day(turn.language, until), on=words["on"], off=words["off"], pause=words["pause"])


@action("pairing")
async def _button(turn: Turn, argument: str) -> None:
    if argument in ("on", "off"):
        await _choose(turn, argument)
