"""Telling a command from an answer. A command is the command word alone, or with arguments of the
exact shape it takes, so that an answer that happens to begin with "support" or "now" is still
taken as an answer; a platform that marks text as a command (Slack's /reflect) makes it explicit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.command_words import (
    COMMAND_WORDS,
    PAIRING_OFF,
    PAIRING_ON,
    RECORD_ALL,
    RECORD_IN,
    RECORD_OUT,
    WORDS,
    local_word,
    spellings,
    until_words,
)
from bot.i18n import LANGUAGES

__all__ = ["WORDS", "Command", "parse_command"]

_SHAPES = {
    "correct": re.compile(r"^(\d+)?$"),
    "consent": re.compile(r"^(?:(\d+)(?:\s+(named|anonymous|private|1|2|3))?)?$"),
    "handled": re.compile(r"^(\d+)?$"),
}


@dataclass(frozen=True)
class Command:
    word: str
    args: tuple[str | None, ...] = ()
    rest: str = ""


def _pause_date(rest: str, language: str | None) -> str | None:
    """The date part of `pause until DATE`, as written; None when `rest` does not look like one
    (so that an answer which begins with "pause" stays an answer). What it means is for
    `bot.dates` to say, which also refuses it with an example when it is not a date."""
    words = rest.split()
    if words and words[0].casefold() in until_words(language):
        words = words[1:]
        if words and len(words) <= 3:
            return " ".join(words)
        return None
    if 1 <= len(words) <= 3 and any(ch.isdigit() for ch in rest):
        return " ".join(words)
    return None


@cache
def _sub_words(language: str | None) -> dict[str, str]:
    """What may follow `pairing`, in English and `language` (every language's when not known)."""
    found = {"on": "on", "off": "off", "pause": "pause"}
    for code in LANGUAGES if language is None else (language,):
        for sub, message in (("on", PAIRING_ON), ("off", PAIRING_OFF), ("pause", COMMAND_WORDS["pause"])):
            found.setdefault(local_word(code, message).casefold(), sub)
    return found


def _pairing(rest: str, explicit: bool, language: str | None) -> Command | None:
    """`pairing` (where one stands), `pairing on`, `pairing off`, `pairing pause until DATE`."""
    if not rest:
        return Command("pairing")
    words = rest.split(maxsplit=1)
    sub = _sub_words(language).get(words[0].casefold())
    if sub in ("on", "off") and len(words) == 1:
        return Command("pairing", (sub,))
    if sub == "pause":
        raw = _pause_date(words[1], language) if len(words) > 1 else None
        if raw is not None:
            return Command("pairing", ("pause", raw), rest=rest)
        return Command("pairing", ("pause", None), rest=rest)
    return Command("pairing", rest=rest) if explicit else None


@cache
def _record_words(language: str | None) -> dict[str, str]:
    """What may follow `record`, in English and `language` (every language's when not known)."""
    found = {"in": "in", "out": "out", "all": "all"}
    for code in LANGUAGES if language is None else (language,):
        for sub, message in (("in", RECORD_IN), ("out", RECORD_OUT), ("all", RECORD_ALL)):
            found.setdefault(local_word(code, message).casefold(), sub)
    return found


def _record(rest: str, explicit: bool, language: str | None) -> Command | None:
    """`record` (the list and the document), `record 2 out`, `record 2 3 in`, `record all in`."""
    if not rest:
        return Command("record")
    words = [w for w in rest.replace(",", " ").split() if w]
    subs = _record_words(language)
    last = subs.get(words[-1].casefold()) if words else None
    which = words[:-1]
    if last in ("in", "out") and which:
        if len(which) == 1 and subs.get(which[0].casefold()) == "all":
            return Command("record", ("all", last))
        if all(w.isdigit() for w in which):
            return Command("record", (" ".join(which), last))
    return Command("record", rest=rest) if explicit else None


def parse_command(text: str, explicit: bool = False, language: str | None = None) -> Command | None:
    """The command `text` is, in English or in `language` (every language's words when it is
    not known), or None for an answer."""
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
    word = spellings(language).get(word, word)
    if word not in WORDS:
        return None
    if word == "pause":
        if not rest:
            return Command(word, (None,))
        raw = _pause_date(rest, language)
        if raw is None:
            return Command(word, rest=rest) if explicit else None
        return Command(word, (raw,), rest=rest)
    if word == "pairing":
        return _pairing(rest, explicit, language)
    if word == "record":
        return _record(rest, explicit, language)
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
