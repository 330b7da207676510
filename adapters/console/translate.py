"""Console translator: a typed line into the neutral reply, a neutral message into plain text."""

from __future__ import annotations

from bot.messages import Incoming, Outgoing


def to_incoming(person_id: str, line: str) -> Incoming:
    # On the console the person is who `chat --as` names; a number answers the current question.
    return Incoming(platform="console", user_id=person_id, text=line.rstrip("\r\n"))


def to_text(message: Outgoing) -> str:
    lines: list[str] = []
    if message.kind == "question" and message.progress_label:
        lines.append(f"── {message.progress_label} ──")
    if message.kind == "alert":
        lines.append("!! " + message.text)
    else:
        lines.append(message.text)
    for number, choice in enumerate(message.choices, 1):
        if message.question_kind == "scale":
            continue
        lines.append(f"  {number}. {choice.label}")
    if message.question_kind == "scale":
        lines.append("  1 · 2 · 3 · 4 · 5")
    if message.kind == "question" and message.hint:
        lines.append(f"  ({message.hint})")
    return "\n".join(lines)
