"""`record`, `record 2 out`, `record 2 in`, `record all in`: the participant reviews their
learning record in the chat. `record` lists its items, numbered, each included or left out,
and sends the document (a PDF file, or a link to it, as the platform allows); the others change
what it includes and list it again. A change after a coordinator approved the record makes it a
draft again, and the person is told so."""

from __future__ import annotations

import logging

from bot.command_parser import Command
from bot.command_words import COMMAND_WORDS, RECORD_ALL, RECORD_IN, RECORD_OUT, local_word
from bot.i18n import N_, NP_, format_day
from bot.messages import Op, Outgoing
from bot.reports.common import short
from bot.reports.record import LearningRecord, NoRecord, choose, gather_record
from bot.turn import Turn

logger = logging.getLogger(__name__)

NOT_A_PARTICIPANT = N_("Only participants on exchange have a learning record.")
INTRO_DRAFT = N_("Your learning record (a draft until a coordinator of yours approves it). What it holds:")
INTRO_APPROVED = N_("Your learning record, approved by {coordinator} on {date}. What it holds:")
NO_ITEMS = N_("It has no reflections or aha moments yet to choose from; your learning goals and ratings are in it.")
INCLUDED = N_("included")
LEFT_OUT = N_("left out")
HOW_TO = N_(
    "To leave an item out, write {out} (with its number); to include it again, {in_}; to include everything, {all_in}."
)
NO_SUCH_ITEM = N_("Your learning record has no item {number}; its items are numbered 1 to {count}.")
CHANGED = NP_("Done: {count} item changed.", "Done: {count} items changed.")
NOTHING_CHANGED = N_("Nothing changed: it was so already.")
DRAFT_AGAIN = N_("Your record had been approved; with this change it is a draft again until a coordinator approves it.")
DOCUMENT = N_("Your learning record as a document:")
ON_THE_COMMAND_LINE = N_("Your coordinator can print it for you: reflectbot record {person} --out record.pdf")
# A chat line shows the start of an item; the document shows more of it.
LINE_LENGTH = 90


def record_words(language: str) -> dict[str, str]:
    """`record 2 out` and the others, as the person writes them."""
    record = local_word(language, COMMAND_WORDS["record"])
    in_, out, all_ = (local_word(language, w) for w in (RECORD_IN, RECORD_OUT, RECORD_ALL))
    return {"out": f"{record} 2 {out}", "in_": f"{record} 2 {in_}", "all_in": f"{record} {all_} {in_}"}


def listing(turn: Turn, record: LearningRecord) -> str:
    if record.approved_day is not None:
        intro = turn.t(INTRO_APPROVED, coordinator=record.approved_by or "", date=format_day(turn.language, record.approved_day))
    else:
        intro = turn.t(INTRO_DRAFT)
    lines = [intro]
    if not record.items:
        lines.append(turn.t(NO_ITEMS))
        return "\n".join(lines)
    for item in record.items:
        state = turn.t(INCLUDED) if item.included else turn.t(LEFT_OUT)
        lines.append(f"{item.number}. [{state}] {short(item.text, LINE_LENGTH)}")
    lines.append(turn.t(HOW_TO, **record_words(turn.language)))
    return "\n".join(lines)


async def _say(turn: Turn, text: str) -> None:
    await turn.say(text.replace("{", "{{").replace("}", "}}"))


async def record_command(turn: Turn, command: Command) -> None:
    if turn.person.role != "participant":
        await turn.say(NOT_A_PARTICIPANT)
        return
    try:
        record = await gather_record(turn.session, turn.person.id)
    except NoRecord:
        await turn.say(NOT_A_PARTICIPANT)
        return
    if len(command.args) != 2:
        await _say(turn, listing(turn, record))
        await deliver_record(turn)
        return
    which, sub = command.args
    numbers: list[int] | None = None
    if which != "all":
        numbers = [int(n) for n in (which or "").split()]
        wrong = next((n for n in numbers if not 1 <= n <= len(record.items)), None)
        if wrong is not None:
            await turn.say(NO_SUCH_ITEM, number=wrong, count=len(record.items))
            return
    was_approved = record.approved
    record, changed = await choose(turn.session, turn.person.id, numbers, sub == "in", turn.now)
    lines = [turn.t(CHANGED, count=changed) if changed else turn.t(NOTHING_CHANGED)]
    if changed and was_approved:
        lines.append(turn.t(DRAFT_AGAIN))
    lines.append(listing(turn, record))
    await _say(turn, "\n".join(lines))


async def deliver_record(turn: Turn) -> None:
    """The document, printed when it is sent (so it holds the latest choices), never stored."""
    out = Outgoing(
        person_id=turn.person.id,
        text=turn.t(DOCUMENT),
        language=turn.language,
        always=True,
        op=Op.DELIVER_RECORD,
        hint=turn.t(ON_THE_COMMAND_LINE, person=turn.person.id),
    )
    await turn.send(out, turn.key("record"))
    logger.info("learning record for %s queued for delivery", turn.person.id)
