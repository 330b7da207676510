"""Telling a command from an answer. A command is the command word alone, or with arguments of the
exact shape it takes, so that an answer that happens to begin with "support" or "now" is still
taken as an answer; a platform that marks text as a command (Slack's /reflect) makes it explicit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.command_words import WORDS, spellings, until_words

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
