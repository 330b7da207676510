"""Telling a command from an answer. A command is the command word alone, or with arguments of the
exact shape it takes, so that an answer that happens to begin with "support" or "now" is still
taken as an answer; a platform that marks text as a command (Slack's /reflect) makes it explicit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
