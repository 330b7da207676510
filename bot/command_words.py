"""The command words, in English and in each person's language (from the catalogues, so a
translator decides how `pause` is written in Bengali), and how near a word is to one of them.

English always works, whatever the person's language: it is what the help of older versions
and the prompts' hints taught everyone.
"""

from __future__ import annotations

from functools import cache

from bot.i18n import LANGUAGES, N_, Translator

# The canonical word (what the handlers know) and its message id: the English word itself.
COMMAND_WORDS: dict[str, str] = {
    "help": N_("help"),
    "status": N_("status"),
    "skip": N_("skip"),
    "pause": N_("pause"),
    "resume": N_("resume"),
    "now": N_("now"),
    "all-now": N_("all-now"),
    "support": N_("support"),
    "correct": N_("correct"),
    "consent": N_("consent"),
    "handled": N_("handled"),
    "share": N_("share"),
    "export": N_("export"),
    "pairing": N_("pairing"),
    "record": N_("record"),
}
WORDS = tuple(COMMAND_WORDS)
UNTIL = N_("until")
# What follows `pairing`: `pairing on`, `pairing off` (and `pairing pause until DATE`).
PAIRING_ON = N_("on")
PAIRING_OFF = N_("off")
# What follows `record`: `record 2 out`, `record 2 in`, `record all in` (bot.record_review).
RECORD_IN = N_("in")
RECORD_OUT = N_("out")
RECORD_ALL = N_("all")
YES = N_("yes")
# What a coordinator writes; a participant's help does not list them, and the other way round.
COORDINATOR_WORDS = ("help", "handled", "export")
PARTICIPANT_WORDS = tuple(w for w in WORDS if w != "handled")


@cache
def _translator() -> Translator:
    return Translator()


def local_word(language: str, message: str) -> str:
    """A command word as it is written in that language (one token: spaces become hyphens)."""
    return "-".join(_translator().gettext(language, message).split())


@cache
def spellings(language: str | None) -> dict[str, str]:
    """Every way of writing a command word (casefolded) → the canonical word: English and
    `language`'s, or every language's when it is not known (a platform reading a slash command)."""
    found = {w: w for w in WORDS}
    for code in LANGUAGES if language is None else (language,):
        for word, message in COMMAND_WORDS.items():
            found.setdefault(local_word(code, message).casefold(), word)
    return found


@cache
def until_words(language: str | None) -> tuple[str, ...]:
    codes = LANGUAGES if language is None else ("en", language)
    return tuple(dict.fromkeys(local_word(code, UNTIL).casefold() for code in codes))


def is_yes(text: str, language: str) -> bool:
    # A translation may offer alternatives ("បាទ/ចាស" in Khmer, by who is speaking).
    spoken = {w for w in local_word(language, YES).casefold().split("/") if w}
    return text.strip().casefold() in {"yes", "y"} | spoken


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent swaps counting as one ("stauts" is one from "status")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def near_command(text: str, language: str) -> str | None:
    """The command a one-word message was probably meant to be ("stauts" → status), or None.
    Short words are left alone: "no" is an answer, not a mistyped "now"."""
    word = text.strip().lstrip("/").casefold()
    if len(word) < 4 or len(word.split()) != 1 or word in spellings(language):
        return None
    allowed = 1 if len(word) < 7 else 2
    best = min(spellings(language).items(), key=lambda kv: distance(word, kv[0]))
    return best[1] if distance(word, best[0]) <= allowed else None
