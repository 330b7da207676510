"""Neutral messages into Slack Block Kit, within Block Kit's limits.

Every text is mrkdwn-escaped (only `&`, `<` and `>`, as Slack asks), whoever wrote it: questions
quote goals and organisation names from the programme file, and notices echo what people wrote.
Long texts are split over several sections; only echoes of an answer are shortened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.slack import texts
from adapters.slack.translate import ANSWER_INPUT, FORM_CALLBACK, PREFIX, form_metadata
from bot.messages import Outgoing

Block = dict[str, Any]
Gettext = Callable[..., str]  # t(message_id, **values) in the reader's language

MAX_BLOCKS = 50  # a message; a modal or the Home tab may have 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 2000
BUTTON_TEXT = 75
OPTION_TEXT = 75
BUTTONS = 25  # elements of one actions block
CHECKBOXES = 10
SELECT_OPTIONS = 100
MODAL_TITLE = 24
FALLBACK_TEXT = 3000
ECHO = 500  # how much of an answer an echo shows

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _escaped_len(text: str) -> int:
    # Counted, not built: every message's every block is measured, most need no cut.
    return len(text) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def fit(text: str, limit: int) -> str:
    """`text` escaped, shortened so that the escaped form fits `limit` (no entity cut in half)."""
    if _escaped_len(text) <= limit:
        return escape(text)
    size = cut = 0
    for index, ch in enumerate(text):
        size += len(_ESCAPES.get(ch, ch))
        if size > limit - 1:
            break
        cut = index + 1
    return escape(text[:cut].rstrip()) + "…"


def chunks(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Split `text` so that each piece, once escaped, fits `limit`; prefer line and word breaks."""
    pieces: list[str] = []
    rest = text
    while rest:
        if _escaped_len(rest) <= limit:
            pieces.append(rest)
            break
        size = cut = 0
        for index, ch in enumerate(rest):
            size += len(_ESCAPES.get(ch, ch))
            if size > limit:
                break
            cut = index + 1
        brk = max(rest.rfind("\n", 0, cut), rest.rfind(" ", 0, cut))
        if brk > cut // 2:
            cut = brk + 1
        pieces.append(rest[:cut])
        rest = rest[cut:]
    return [p for p in pieces if p.strip()]


def plain(text: str, limit: int) -> dict[str, Any]:
    # plain_text is shown as typed: no escaping, only the length limit.
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def sections(text: str, budget: int = MAX_BLOCKS) -> list[Block]:
    pieces = chunks(text) or [" "]
    texts_ = [escape(p) for p in pieces]
    if len(pieces) > budget:
        texts_ = [*texts_[: budget - 1], fit(pieces[budget - 1], SECTION_TEXT - 1) + "…"]
    return [{"type": "section", "text": mrkdwn(t)} for t in texts_]


def goal_block(message: Outgoing, t: Gettext) -> Block | None:
    """The learning goal the question is about, quoted; else all of the person's goals."""
    if message.goal:
        quoted = "> " + fit(message.goal, SECTION_TEXT - 100).replace("\n", "\n> ")
    elif message.goals:
        goals = message.goals[:10]
        each = (SECTION_TEXT - 200) // len(goals) - 10
        lines = [f"> {fit(g, each)}".replace("\n", " ") for g in goals]
        quoted = f"_{fit(t(texts.YOUR_GOALS), 150)}_\n" + "\n".join(lines)
    else:
        return None
    return {"type": "section", "text": mrkdwn(quoted)}


def _button(action_id: str, label: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, BUTTON_TEXT),
        "value": value[:2000],
    }
    if style:
        button["style"] = style
    return button


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": plain(label, OPTION_TEXT), "value": value[:150]}


def answer_elements(message: Outgoing, t: Gettext) -> list[dict[str, Any]]:
    """The answer's inputs: a button per choice (or a menu when there are too many), checkboxes
    and a send button for several choices, a form button for a written answer."""
    qid = message.question_id
    kind = message.question_kind
    choices = message.choices
    if kind in ("single", "scale") and choices:
        if len(choices) <= BUTTONS:
            return [_button(f"{PREFIX}answer:{qid}:{i}", c.label, c.value) for i, c in enumerate(choices)]
        return [
            {
                "type": "static_select",
                "action_id": f"{PREFIX}choose:{qid}",
                "options": [_option(c.label, c.value) for c in choices[:SELECT_OPTIONS]],
            }
        ]
    if kind == "multi" and choices:
        picker: dict[str, Any]
        options = [_option(c.label, c.value) for c in choices[:SELECT_OPTIONS]]
        if len(choices) <= CHECKBOXES:
            picker = {"type": "checkboxes", "action_id": f"{PREFIX}pick:{qid}", "options": options}
        else:
            picker = {"type": "multi_static_select", "action_id": f"{PREFIX}pick:{qid}", "options": options}
        return [picker, _button(f"{PREFIX}submit:{qid}", t(texts.SUBMIT_CHOICES), str(qid), "primary")]
    if kind == "text":
        return [_button(f"{PREFIX}form:{qid}", t(texts.ANSWER_IN_FORM), str(qid))]
    return []


def context_block(*lines: str | None) -> Block | None:
    elements = [mrkdwn(fit(line, CONTEXT_TEXT)) for line in lines if line]
    return {"type": "context", "elements": elements} if elements else None


def fallback(message: Outgoing) -> str:
    # The notification text; Slack reads it as mrkdwn too.
    return fit(message.text, FALLBACK_TEXT)


def _head(message: Outgoing, t: Gettext, reserved: int) -> list[Block]:
    blocks = sections(message.text, MAX_BLOCKS - reserved)
    if message.kind == "question":
        goal = goal_block(message, t)
        if goal:
            blocks.append(goal)
    return blocks


def message_blocks(message: Outgoing, t: Gettext) -> list[Block]:
    """The blocks of one message to a person or a channel."""
    blocks = _head(message, t, reserved=4)
    if message.kind == "question" and message.question_id is not None:
        elements = answer_elements(message, t)
        if elements:
            blocks.append(
                {"type": "actions", "block_id": f"rb-q-{message.question_id}", "elements": elements}
            )
    if message.actions:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button(f"{PREFIX}do:{i}", a.label, a.id) for i, a in enumerate(message.actions[:BUTTONS])
                ],
            }
        )
    if message.kind == "question":
        context = context_block(message.progress_label, message.hint)
        if context:
            blocks.append(context)
    return blocks[:MAX_BLOCKS]


def answered_blocks(message: Outgoing, answer: str, t: Gettext) -> list[Block]:
    """The question as first sent, without its buttons, showing the answer that was recorded."""
    blocks = _head(message, t, reserved=2)
    echo = fit(t(texts.YOUR_ANSWER, answer=shorten(answer, ECHO)), SECTION_TEXT - 30)
    blocks.append({"type": "section", "text": mrkdwn(":white_check_mark: " + echo)})
    context = context_block(message.progress_label)
    if context:
        blocks.append(context)
    return blocks[:MAX_BLOCKS]


def form_view(
    question_id: int,
    question: str,
    goal: str | None,
    label: str | None,
    message: str | None,
    t: Gettext,
) -> dict[str, Any]:
    """The modal for a long written answer; `private_metadata` names the question it answers
    and the message to update once it is saved."""
    block_id, action_id = ANSWER_INPUT
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(fit(question, SECTION_TEXT))}]
    if goal:
        blocks.append(
            {"type": "section", "text": mrkdwn("> " + fit(goal, SECTION_TEXT - 10).replace("\n", " "))}
        )
    blocks.append(
        {
            "type": "input",
            "block_id": block_id,
            "label": plain(label or t(texts.FORM_TITLE), 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": action_id,
                "multiline": True,
                "max_length": 3000,
                "placeholder": plain(t(texts.FORM_PLACEHOLDER), 150),
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(t(texts.FORM_TITLE), MODAL_TITLE),
        "submit": plain(t(texts.FORM_SAVE), MODAL_TITLE),
        "close": plain(t(texts.FORM_CLOSE), MODAL_TITLE),
        "private_metadata": form_metadata(question_id, message),
        "blocks": blocks,
    }
