"""Outgoing → Adaptive Card 1.5 (what Teams desktop, web and mobile all render).

Plain dicts, no botbuilder: a card is JSON, and tests validate it against the published schema.
Every answer button carries `{"question_id", "value"}` and every form its `question_id`, so a
submission is matched to the exact question of its card however late it comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import N_
from bot.messages import Outgoing

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"

SEND = N_("Send")
YOUR_ANSWER = N_("Your answer: {answer}")
YOUR_GOALS = N_("Your learning goals")

# The input ids a submission comes back with (`activity.value`), read by adapters.teams.translate.
ANSWER_INPUT = "answer"
VALUES_INPUT = "values"

Gettext = Callable[..., str]


def needs_card(message: Outgoing) -> bool:
    """Questions and anything with buttons are cards; other notices are plain messages."""
    return message.kind == "question" or bool(message.actions)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(body: list[dict[str, Any]], language: str, actions: list[dict[str, Any]] | None = None) -> dict:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "lang": language,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _head(message: Outgoing) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if message.progress_label:
        body.append(_text(message.progress_label, size="Small", isSubtle=True))
    body.append(_text(message.text, weight="Bolder" if message.kind == "question" else "Default"))
    if message.goal and message.goal not in message.text:
        # The learning goal the question asks about, quoted as the programme wrote it down.
        body.append(_quote([message.goal]))
    return body


def _quote(goals: list[str] | tuple[str, ...], label: str | None = None) -> dict[str, Any]:
    items = [_text(label, size="Small", weight="Bolder")] if label else []
    items += [_text(f"“{goal}”", isSubtle=True, spacing="Small") for goal in goals]
    return {"type": "Container", "style": "emphasis", "items": items}


def _goals(message: Outgoing, gettext: Gettext) -> list[dict[str, Any]]:
    """A question that is not about one goal still shows what the person came to learn."""
    if message.kind != "question" or message.goal or not message.goals:
        return []
    return [_quote(message.goals, gettext(YOUR_GOALS))]


def _submit(title: str, data: dict[str, Any], inputs: bool = False) -> dict[str, Any]:
    return {
        "type": "Action.Submit",
        "title": title,
        "data": data,
        "associatedInputs": "auto" if inputs else "none",
    }


def _answer_inputs(message: Outgoing, gettext: Gettext) -> list[dict[str, Any]]:
    question_id = message.question_id
    kind = message.question_kind
    if question_id is None or kind in (None, "info"):
        return []
    if kind in ("single", "scale"):
        return [
            {
                "type": "ActionSet",
                "actions": [
                    _submit(c.label, {"question_id": question_id, "value": c.value}) for c in message.choices
                ],
            }
        ]
    if kind == "multi":
        return [
            {
                "type": "Input.ChoiceSet",
                "id": VALUES_INPUT,
                "isMultiSelect": True,
                "style": "expanded",
                "choices": [{"title": c.label, "value": c.value} for c in message.choices],
            },
            {
                "type": "ActionSet",
                "actions": [_submit(gettext(SEND), {"question_id": question_id}, inputs=True)],
            },
        ]
    return [
        {
            "type": "Input.Text",
            "id": ANSWER_INPUT,
            "isMultiline": True,
            "placeholder": message.hint or "",
        },
        {
            "type": "ActionSet",
            "actions": [_submit(gettext(SEND), {"question_id": question_id}, inputs=True)],
        },
    ]


def _actions(message: Outgoing) -> list[dict[str, Any]]:
    return [_submit(a.label, {"action": a.id}) for a in message.actions]


def message_card(message: Outgoing, gettext: Gettext) -> dict[str, Any]:
    """The card for a question (or a notice with buttons)."""
    body = _head(message) + _answer_inputs(message, gettext) + _goals(message, gettext)
    return _card(body, message.language, _actions(message))


def answered_card(message: Outgoing, answer: str, gettext: Gettext) -> dict[str, Any]:
    """The same card once answered: the buttons and the form give way to the recorded answer."""
    body = [*_head(message), _text(gettext(YOUR_ANSWER, answer=answer), color="Good", separator=True)]
    return _card(body, message.language)


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}
