"""Neutral messages into the Teams activities that carry them: a card, formatted text, the
answered card that replaces a question's, an export in parts. Nothing here sends anything."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from botbuilder.schema import Activity, ActivityTypes, Attachment

from adapters.teams import cards
from bot.i18n import N_
from bot.messages import Outgoing

Gettext = Callable[..., str]

# Teams refuses messages above about 28 KB; the export goes in parts well below that.
EXPORT_PART = 16_000


def _attachment(card: dict[str, Any]) -> Attachment:
    data = cards.attachment(card)
    return Attachment(content_type=data["contentType"], content=data["content"])


def message(message: Outgoing, gettext: Gettext) -> Activity:
    """A new message: questions and anything with buttons as a card, other texts as text."""
    if cards.needs_card(message):
        card = cards.message_card(message, gettext)
        return Activity(
            type=ActivityTypes.message, summary=message.text[:200], attachments=[_attachment(card)]
        )
    if message.kind in ("digest", "panel-pack"):
        # The Markdown version escapes what people wrote; the plain text would let a `*` or
        # `_` in someone's answer turn into formatting.
        markdown = message.markdown or message.text
        return Activity(type=ActivityTypes.message, text=markdown, text_format="markdown")
    # What people wrote (quoted in alerts) is shown as written, never as markup.
    return Activity(
        type=ActivityTypes.message,
        text=html.escape(message.text).replace("\n", "<br>"),
        text_format="xml",
    )


CHAT_WITH = N_("Chat with {name}")


def chat_link(user: str) -> str:
    """A Teams deep link that opens a 1:1 chat with that user (an Entra object id or a UPN):
    Teams lets a bot start no group chat, so each member of a pair gets one to the other."""
    return "https://teams.microsoft.com/l/chat/0/0?users=" + quote(user, safe="@")


def introduction(message: Outgoing, gettext: Gettext, teams_users: list[tuple[str, str]]) -> Activity:
    """An introduction to a pair in the person's 1:1 chat: its text, and a link to chat with each
    of the others who is on Teams (name, Teams user id)."""
    links = [
        f'<a href="{html.escape(chat_link(user))}">{html.escape(gettext(CHAT_WITH, name=name))}</a>'
        for name, user in teams_users
    ]
    text = "<br>".join([html.escape(message.text).replace("\n", "<br>"), *links])
    return Activity(type=ActivityTypes.message, text=text, text_format="xml")


def answered(message_id: str, question: Outgoing, answer: str, gettext: Gettext) -> Activity:
    """The update of the card `message_id` that asked `question`: it shows the recorded answer."""
    card = cards.answered_card(question, answer, gettext)
    return Activity(type=ActivityTypes.message, id=message_id, attachments=[_attachment(card)])


OPEN_RECORD = N_("Open your learning record (PDF; the link works for 7 days)")
NO_RECORD_LINK = N_(
    "Your learning record cannot be linked here: this server has no public address (WEB_BASE_URL). Ask your coordinator for it."
)


def record_link(intro: str, url: str | None, gettext: Gettext) -> Activity:
    """The learning record as a link in the 1:1 chat, or the line that says why there is none."""
    if url is None:
        return Activity(type=ActivityTypes.message, text=html.escape(gettext(NO_RECORD_LINK)), text_format="xml")
    link = f'<a href="{html.escape(url, quote=True)}">{html.escape(gettext(OPEN_RECORD))}</a>'
    return Activity(type=ActivityTypes.message, text=f"{html.escape(intro)}<br>{link}", text_format="xml")


def export(intro: str, data: dict[str, Any]) -> list[Activity]:
    """A person's data as JSON, `intro` first, in parts Teams accepts."""
    parts = split(json.dumps(data, ensure_ascii=False, indent=2), EXPORT_PART)
    return [
        Activity(
            type=ActivityTypes.message,
            text_format="xml",
            text=f"{html.escape(intro) + '<br>' if number == 0 else ''}<pre>{html.escape(part)}</pre>",
        )
        for number, part in enumerate(parts)
    ]


def split(text: str, size: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            parts.append(current + line[: size - len(current)])
            line, current = line[size - len(current) :], ""
        if len(current) + len(line) > size:
            parts.append(current)
            current = ""
        current += line
    if current or not parts:
        parts.append(current)
    return parts
