"""Slack payloads into what they mean for the bot, by one dispatch table.

Each kind of Slack request (a direct message, a button click, a modal submission, the /reflect
command, the App Home tab being opened) has one function here that reads the payload exactly as
Slack sends it. Nothing here talks to Slack or to storage, so every branch is tested against a
recorded payload (tests/fixtures/slack/).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from adapters.payloads import Malformed, load_json, text_or_none
from bot.actions import HOME_OPENED
from bot.command_parser import parse_command
from bot.messages import Incoming

PLATFORM = "slack"
# Every interactive element we render carries an action_id "rb:<what>:<argument>[:<index>]", so a
# click days later still names the exact question it answers.
PREFIX = "rb:"
FORM_CALLBACK = "rb:form"
ANSWER_INPUT = ("answer", "text")  # block_id, action_id of the modal's text input

Kind = Literal["reply", "open_form", "home"]


@dataclass(frozen=True)
class FromSlack:
    """One Slack request, read.

    `reply`: `incoming` goes to the engine; `message` ("channel:ts") is the message a button or
    form belonged to, which is updated to show the recorded answer once the reply is taken.
    `open_form`: open the form for `question_id` with `trigger_id` (at once: the trigger lives
    three seconds). `home`: the App Home tab was opened; `incoming` asks the engine for the
    person's home view (someone unknown gets the stranger's view at once instead).
    """

    kind: Kind
    user_id: str
    incoming: Incoming | None = None
    question_id: int | None = None
    trigger_id: str | None = None
    message: str | None = None
    channel: str | None = None
    event_id: str | None = None


# Slack writes links, mentions and channel names as <target|label> and escapes & < > as HTML
# entities; what a person wrote is stored as they wrote it.
_ENTITY = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _entity(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if label:
        return ("#" + label) if target.startswith("#C") else label
    if target.startswith("!"):
        return "@" + target[1:].split("^")[0]
    return target


def plain_text(text: str | None) -> str:
    if not text:
        return ""
    text = _ENTITY.sub(_entity, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def message_id(channel: str, ts: str) -> str:
    """The platform message id the sender returns and a click's payload names: "channel:ts"."""
    return f"{channel}:{ts}"


# -- Events API ---------------------------------------------------------------------------------
def message_event(body: dict[str, Any]) -> FromSlack | None:
    """A direct message from a person. Everything else that arrives as a `message` event is
    ignored on purpose: edits and deletions (subtype message_changed / message_deleted), joins,
    file shares, other bots and the bot's own messages (bot_id), and anything outside a DM."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or event.get("subtype") is not None:
        return None
    if event.get("bot_id") or event.get("bot_profile") or not event.get("user"):
        return None
    user = event["user"]
    return FromSlack(
        "reply",
        user,
        incoming=Incoming(PLATFORM, user, text=plain_text(event.get("text")), event_id=body.get("event_id")),
        channel=event.get("channel"),
        event_id=body.get("event_id"),
    )


def home_opened(body: dict[str, Any]) -> FromSlack | None:
    event = body.get("event") or {}
    if event.get("tab") != "home" or not event.get("user"):
        return None
    user, event_id = event["user"], body.get("event_id")
    incoming = Incoming(PLATFORM, user, action=HOME_OPENED, event_id=event_id)
    return FromSlack("home", user, incoming=incoming, event_id=event_id)


EVENTS: dict[str, Callable[[dict[str, Any]], FromSlack | None]] = {
    "message": message_event,
    "app_home_opened": home_opened,
}


def event_callback(body: dict[str, Any]) -> FromSlack | None:
    handler = EVENTS.get((body.get("event") or {}).get("type", ""))
    return handler(body) if handler else None


# -- Interactivity ------------------------------------------------------------------------------
def _state_value(body: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in ((body.get("state") or {}).get("values") or {}).values():
        if action_id in block:
            return dict(block[action_id])
    return None


def block_actions(body: dict[str, Any]) -> FromSlack | None:
    actions = body.get("actions") or []
    user = (body.get("user") or {}).get("id")
    if not actions or not user:
        return None
    action = actions[0]
    parts = str(action.get("action_id", "")).split(":")
    if len(parts) < 3 or parts[0] + ":" != PREFIX:
        return None
    what, argument = parts[1], parts[2]
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    message = message_id(channel, ts) if channel and ts else None
    event_id = f"action:{user}:{action.get('action_ts') or body.get('trigger_id')}"
    values: tuple[str, ...] | None
    if what == "form":
        return FromSlack(
            "open_form",
            user,
            question_id=int(argument),
            trigger_id=body.get("trigger_id"),
            message=message,
            channel=channel,
        )
    if what == "do":
        return FromSlack(
            "reply", user, incoming=Incoming(PLATFORM, user, action=action.get("value"), event_id=event_id)
        )
    if what == "answer":
        values = (str(action.get("value")),)
    elif what == "choose":
        values = (str((action.get("selected_option") or {}).get("value")),)
    elif what == "submit":
        picked = _state_value(body, f"{PREFIX}pick:{argument}") or {}
        values = tuple(str(o["value"]) for o in picked.get("selected_options") or [])
    else:
        return None  # e.g. ticking a checkbox: only the submit button answers
    incoming = Incoming(
        PLATFORM,
        user,
        question_id=int(argument),
        values=values,
        event_id=event_id,
        show_answer=message is not None,
        message_id=message,
    )
    return FromSlack("reply", user, incoming=incoming, message=message, channel=channel)


def form_metadata(question_id: int, message: str | None) -> str:
    return json.dumps({"q": question_id, "m": message})


def view_submission(body: dict[str, Any]) -> FromSlack | None:
    view = body.get("view") or {}
    user = (body.get("user") or {}).get("id")
    if view.get("callback_id") != FORM_CALLBACK or not user:
        return None
    meta = load_json(view.get("private_metadata") or "{}")
    block_id, action_id = ANSWER_INPUT
    text = ((((view.get("state") or {}).get("values") or {}).get(block_id) or {}).get(action_id) or {}).get(
        "value"
    )
    # A modal is submitted once; its id and hash name this submission should Slack send it again.
    digest = hashlib.sha256(json.dumps(view.get("state"), sort_keys=True).encode()).hexdigest()[:16]
    event_id = f"view:{view.get('id')}:{view.get('hash') or digest}"
    incoming = Incoming(
        PLATFORM,
        user,
        text=text or "",
        question_id=int(meta["q"]),
        event_id=event_id,
        # Once the answer is taken, the message the form was opened from is updated to show it.
        show_answer=meta.get("m") is not None,
        message_id=meta.get("m"),
    )
    return FromSlack("reply", user, incoming=incoming, message=meta.get("m"))


# -- Slash command ------------------------------------------------------------------------------
COMMAND = "/reflect"


def slash_command(body: dict[str, Any]) -> FromSlack | None:
    user = body.get("user_id")
    if body.get("command") != COMMAND or not user:
        return None
    text = plain_text(body.get("text")).strip()
    channel = body.get("channel_id")
    event_id = f"command:{body.get('trigger_id')}"
    if not text:
        text = "help"
    elif parse_command(text, explicit=True) is None:
        text = "help"  # an explicit command that is none of ours: the help list, never an answer
    incoming = Incoming(PLATFORM, user, text=text, is_command=True, event_id=event_id)
    return FromSlack("reply", user, incoming=incoming, channel=channel, event_id=event_id)


PAYLOADS: dict[str, Callable[[dict[str, Any]], FromSlack | None]] = {
    "event_callback": event_callback,
    "block_actions": block_actions,
    "view_submission": view_submission,
}


def translate(body: dict[str, Any]) -> FromSlack | None:
    """What a Slack request body (as bolt parses it) means for the bot; None when it is ignored.

    A body of another shape than Slack's (a field of the wrong type, a question id that is no
    number) raises `Malformed`: these functions only read the body, so any such error is the
    body's."""
    if not isinstance(body, dict):
        raise Malformed("slack body is not an object")
    try:
        read = _read(body)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise Malformed(f"slack body: {type(exc).__name__}") from None
    if read is not None:
        _check(read)
    return read


def _read(body: dict[str, Any]) -> FromSlack | None:
    if "command" in body:
        return slash_command(body)
    handler = PAYLOADS.get(str(body.get("type")))
    return handler(body) if handler else None


def _check(read: FromSlack) -> None:
    """What goes on to storage and to Slack is text where text belongs."""
    fields = [getattr(read, what) for what in ("user_id", "trigger_id", "message", "channel", "event_id")]
    incoming = read.incoming
    if incoming is not None:
        fields += [getattr(incoming, what) for what in ("text", "action", "event_id", "message_id")]
        fields += list(incoming.values or ())
    if not read.user_id:
        raise Malformed("no user")
    for value in fields:
        # Slack never sends a NUL (and PostgreSQL cannot store one).
        if "\x00" in (text_or_none(value, "field") or ""):
            raise Malformed("NUL in a field")
    question_id = read.question_id if incoming is None else incoming.question_id
    if question_id is not None and not 0 < question_id < 2**31:
        raise Malformed("question id out of range")
