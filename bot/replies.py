"""Reading a reply as the answer to one question of a given kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.flows import SCALE_CHOICES
from bot.i18n import N_


@dataclass(frozen=True)
class Parsed:
    text: str
    values: tuple[str, ...] | None


class NotAnAnswer(ValueError):
    """The reply does not fit the question; `hint` is the message id that says what would."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


HINT_SINGLE = N_("Please reply with the number of one option.")
HINT_MULTI = N_("Please reply with the numbers of one or more options, for example 1,3.")
HINT_SCALE = N_("Please reply with a number from 1 to 5.")
HINT_TEXT = N_("Please write your answer in words.")


def parse_answer(
    kind: str,
    choices: list[dict[str, str]] | None,
    text: str | None,
    values: tuple[str, ...] | None,
) -> Parsed:
    options = choices or (
        [{"value": v, "label": label} for v, label in SCALE_CHOICES] if kind == "scale" else []
    )
    labels = {o["value"]: o["label"] for o in options}
    if kind == "text":
        if text is None or not text.strip():
            raise NotAnAnswer(HINT_TEXT)
        return Parsed(text.strip(), None)

    chosen: list[str]
    if values is not None:
        chosen = [v for v in values if v in labels]
        if len(chosen) != len(values) or not chosen:
            raise NotAnAnswer(HINT_SINGLE if kind != "multi" else HINT_MULTI)
    else:
        chosen = _values_from_text(text or "", options)
    if not chosen:
        raise NotAnAnswer({"single": HINT_SINGLE, "multi": HINT_MULTI}.get(kind, HINT_SCALE))
    if kind in ("single", "scale") and len(chosen) != 1:
        raise NotAnAnswer(HINT_SINGLE if kind == "single" else HINT_SCALE)
    chosen = list(dict.fromkeys(chosen))
    return Parsed(", ".join(labels[v] for v in chosen), tuple(chosen))


def _values_from_text(text: str, options: list[dict[str, str]]) -> list[str]:
    """'2', '1, 3', '1 3' or the options' labels or values, in any case."""
    text = text.strip()
    if not text:
        return []
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if parts and all(p.isdigit() for p in parts):
        numbers = [int(p) for p in parts]
        if all(1 <= n <= len(options) for n in numbers):
            return [options[n - 1]["value"] for n in numbers]
        return []
    wanted = [p.strip().casefold() for p in re.split(r"[,;]", text) if p.strip()]
    found = []
    for w in wanted:
        match = next(
            (o["value"] for o in options if w in (o["label"].casefold(), o["value"].casefold())), None
        )
        if match is None:
            return []
        found.append(match)
    return found
