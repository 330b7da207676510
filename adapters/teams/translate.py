"""Teams activities → what the bot understands, by one dispatch table on `activity.type`.

Each activity becomes one event: `Installed` / `Uninstalled` (keep or drop the conversation
reference), `Said` (an `Incoming` for the engine: typed text, or an Adaptive Card's
`Action.Submit`), or nothing (typing, reactions, invokes and anything else are ignored). Recorded
payloads in tests/fixtures/teams/ pin each branch.

Every message marks `show_answer`: a card that asked a question changes to show the answer once it
is recorded, whether the person typed it or used the card.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import Any

from botbuilder.schema import Activity

from adapters.payloads import Malformed
from adapters.teams.cards import ANSWER_INPUT, VALUES_INPUT
from bot.messages import Incoming

PLATFORM = "teams"


@dataclass(frozen=True)
class Installed:
    user_id: str


@dataclass(frozen=True)
class Uninstalled:
    user_id: str


@dataclass(frozen=True)
class Said:
    incoming: Incoming

    @property
    def user_id(self) -> str:
        return self.incoming.user_id


Event = Installed | Uninstalled | Said


def user_id(activity: Activity) -> str | None:
    """The programme file's `teams:` id is the person's Entra (AAD) object id."""
    sender = activity.from_property
    if sender is None:
        return None
    return sender.aad_object_id or sender.id


def tenant_id(activity: Activity) -> str | None:
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    return tenant.get("id") if isinstance(tenant, dict) else None


def _bot_is(activity: Activity, members: list[Any] | None) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    return any(m.id == bot for m in members or [])


def _conversation_update(activity: Activity) -> Event | None:
    user = user_id(activity)
    if user is None:
        return None
    if _bot_is(activity, activity.members_removed):
        return Uninstalled(user)
    # In a personal chat Teams lists the bot (and sometimes the user) as added on install.
    if activity.members_added:
        return Installed(user)
    return None


def _installation_update(activity: Activity) -> Event | None:
    user = user_id(activity)
    if user is None:
        return None
    action = (activity.action or "").casefold()
    if action.startswith("remove"):
        return Uninstalled(user)
    if action.startswith("add"):
        return Installed(user)
    return None


def _message(activity: Activity) -> Event | None:
    user = user_id(activity)
    if user is None:
        return None
    if isinstance(activity.value, dict) and not (activity.text or "").strip():
        return _submission(activity, user, activity.value)
    text = plain_text(activity.text or "")
    return Said(
        Incoming(
            PLATFORM,
            user,
            text=text,
            event_id=activity.id,
            # Teams has no slash commands; a leading "/" is the nearest thing to one.
            is_command=text.lstrip().startswith("/"),
            show_answer=True,
        )
    )


def _submission(activity: Activity, user: str, value: dict[str, Any]) -> Event | None:
    """An Adaptive Card `Action.Submit`: a message with no text whose `value` is the action's data
    merged with the card's inputs."""
    if isinstance(value.get("action"), str):
        return Said(Incoming(PLATFORM, user, action=value["action"], event_id=activity.id, show_answer=True))
    try:
        question_id = int(value["question_id"])
    except (KeyError, TypeError, ValueError):
        return None
    if "value" in value:
        values: tuple[str, ...] | None = (str(value["value"]),)
        text = None
    elif VALUES_INPUT in value:
        # Input.ChoiceSet with isMultiSelect submits the chosen values joined by commas.
        values = tuple(v for v in str(value[VALUES_INPUT] or "").split(",") if v)
        text = None
    else:
        values, text = None, str(value.get(ANSWER_INPUT) or "")
    return Said(
        Incoming(
            PLATFORM,
            user,
            text=text,
            question_id=question_id,
            values=values,
            event_id=activity.id,
            show_answer=True,
            # The card's own message: Teams names it as the submission's replyToId.
            message_id=activity.reply_to_id,
        )
    )


DISPATCH: dict[str, Callable[[Activity], Event | None]] = {
    "message": _message,
    "conversationUpdate": _conversation_update,
    "installationUpdate": _installation_update,
}


def translate(activity: Activity) -> Event | None:
    """The event an activity is; `Malformed` when it lacks what Teams always sends with such an
    activity (who sent it, in which conversation) or has it in another shape. These functions
    only read the activity, so any such error is the activity's."""
    handler = DISPATCH.get(activity.type or "")
    if handler is None:
        return None
    _require(activity)
    try:
        event = handler(activity)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise Malformed(f"teams activity: {type(exc).__name__}") from None
    if isinstance(event, Said):
        _check(event.incoming)
    return event


_TEXTS = ("type", "id", "text", "serviceUrl", "channelId", "replyToId", "action", "name", "deliveryMode")
_ACCOUNTS = ("from", "conversation", "recipient")


def check_body(body: dict[str, Any]) -> None:
    """What msrest would otherwise coerce (a number or an object into a string): the fields Teams
    sends as text are text, and accounts are objects with a text id."""
    for name in _TEXTS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise Malformed(f"teams activity: {name} is not text")
    for name in _ACCOUNTS:
        account = body.get(name)
        if account is None:
            continue
        if not isinstance(account, dict):
            raise Malformed(f"teams activity: {name} is not an account")
        for field in ("id", "aadObjectId", "tenantId"):
            if account.get(field) is not None and not isinstance(account[field], str):
                raise Malformed(f"teams activity: {name}.{field} is not text")


def _require(activity: Activity) -> None:
    sender, conversation = activity.from_property, activity.conversation
    if sender is None or not _is_text(sender.id) or not _is_text(sender.aad_object_id, optional=True):
        raise Malformed("teams activity without a sender")
    if conversation is None or not _is_text(conversation.id):
        raise Malformed("teams activity without a conversation")
    if not _is_text(activity.id, optional=True):
        raise Malformed("teams activity with an id that is not text")
    if activity.text is not None and (not isinstance(activity.text, str) or "\x00" in activity.text):
        raise Malformed("teams activity with a text that is not text")
    for member in (activity.members_added or []) + (activity.members_removed or []):
        if member is None or not _is_text(member.id, optional=True):
            raise Malformed("teams activity with a member that is not an account")


def _is_text(value: Any, optional: bool = False) -> bool:
    if value is None:
        return optional
    # Teams never sends a NUL (and PostgreSQL cannot store one).
    return isinstance(value, str) and bool(value) and "\x00" not in value


def _check(incoming: Incoming) -> None:
    texts = [incoming.text, incoming.action, incoming.event_id, incoming.message_id, *(incoming.values or ())]
    if any(t is not None and (not isinstance(t, str) or "\x00" in t) for t in texts):
        raise Malformed("teams activity with a value that is not text")
    if incoming.question_id is not None and not 0 < incoming.question_id < 2**31:
        raise Malformed("teams question id out of range")


# -- text -----------------------------------------------------------------------------------
_TAG = re.compile(r"</?(?:p|br|div|span|at|b|i|em|strong|ul|ol|li|pre|code)\b", re.IGNORECASE)
_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "pre"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "at":
            self._skip += 1  # a mention of the bot is not part of what the person wrote
        elif tag in _BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "at":
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS - {"br"} and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(text: str) -> str:
    """Teams sends formatted messages (line breaks, bold, mentions) as HTML; keep the words."""
    if not _TAG.search(text):
        return unescape(text).strip() if "&" in text else text.strip()
    parser = _Text()
    parser.feed(text)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parts for parts in parser.parts)).strip()
