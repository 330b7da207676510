"""Sending to Slack: messages to a person's DM or to a channel, the update that shows a recorded
answer, the App Home view and a data export, each paced and with Slack's errors told apart.

The outbox hands over one message at a time for each person (several people side by side). A
429 becomes `DeliveryError(retry_after=...)` so the outbox tries again after Slack's Retry-After.
Posts are paced under chat.postMessage's limits, about one message a second per channel (short
bursts allowed) and a workspace-wide number a minute, in buckets kept in the database
(storage.pacing) so that every replica keeps to the one pace.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.pacing import LaneSlots, SharedSlots, block_of, hold_after_429
from adapters.slack.blocks import answered_blocks, escape, fallback, message_blocks
from adapters.slack.home import home_view
from adapters.slack.translate import PLATFORM, message_id
from bot.home import home_for
from bot.i18n import Translator
from bot.messages import Delivery, Op, Outgoing
from bot.ports import DeliveryError
from bot.privacy import UnknownPerson, export_person
from bot.reports.record import NoRecord
from bot.reports.record_pdf import record_pdf_of
from storage import identities, reflections, sent
from storage.db import Store
from storage.pacing import Bucket

logger = logging.getLogger(__name__)

# Errors that trying again cannot mend (the person or channel is gone, or the message is wrong).
PERMANENT = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "cannot_dm_bot",
        "account_inactive",
        "user_disabled",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


@dataclass(frozen=True)
class SlackPace:
    """chat.postMessage's limits as this app keeps to them."""

    messages_per_second: float = 1.0  # to one channel
    # Slack allows bursts of about 3 to a channel; one fewer leaves room for the network's
    # jitter between our booking of a slot and the post's arrival at Slack, which would
    # otherwise make the next post to a busy channel a 429.
    channel_burst: int = 2
    workspace_per_minute: float = 600.0  # to the whole workspace

    def channel(self, channel: str) -> Bucket:
        return Bucket.per_second(f"slack:channel:{channel}", self.messages_per_second, self.channel_burst)

    def workspace(self, workspace: str) -> Bucket:
        # No burst: the whole workspace's posts are spread evenly over the minute.
        return Bucket.per_second(f"slack:workspace:{workspace}", self.workspace_per_minute / 60.0)


# How long a send waits in place for its slot before going back to the outbox instead. The
# workspace's slots are shared by every lane of every replica, so a lane waits a little for
# its turn (the others wait for theirs too); a channel's next slot is a second away or more,
# which another person's message should not be kept waiting behind.
WORKSPACE_WAIT = 2.0
CHANNEL_WAIT = 0.25


def workspace_of(token: str) -> str:
    """A bot token belongs to one workspace: its digest names the workspace's bucket without a
    call to auth.test, and without keeping the token in the database."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    error = str(response.get("error") or f"http {response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        headers = response.headers or {}
        raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = 1.0
        return DeliveryError("ratelimited", retry_after=retry_after)
    return DeliveryError(error, permanent=error in PERMANENT)


# The Web API method each kind of send is limited by.
METHODS = {
    Op.MESSAGE: "chat.postMessage",
    Op.PUBLISH_HOME: "views.publish",
    Op.SHOW_ANSWER: "chat.update",
    Op.DELIVER_EXPORT: "files.upload",
    Op.INTRODUCE: "chat.postMessage",
    Op.DELIVER_RECORD: "files.upload",
}


def _text(value: Any) -> str:
    """A field of Slack's answer that names something (a channel, a ts): a non-empty string."""
    if not isinstance(value, str) or not value:
        raise TypeError("not a name")
    return value


def is_user(address: str) -> bool:
    return address[:1] in ("U", "W")


class SlackSender:
    platform = PLATFORM
    supports = frozenset(METHODS)

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        translator: Translator,
        clock: Callable[[], datetime],
        pace: SlackPace | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.translator = translator
        self.clock = clock
        self.pace = pace or SlackPace()
        self.workspace = self.pace.workspace(workspace_of(client.token or ""))
        self.workspace_slots = SharedSlots(store, self.workspace, WORKSPACE_WAIT, block_of(self.workspace))
        self.channel_slots = LaneSlots(store)
        # Slack's Retry-After holds for the method in the whole workspace: until it has passed,
        # further sends go back to the outbox without calling Slack. Times are the outbox's
        # clock. (chat.postMessage's also holds the workspace's shared bucket a moment, for the
        # other replicas: adapters.pacing.SHARED_HOLD.)
        self._limited_until: dict[str, datetime] = {}
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def gettext(self, language: str) -> Callable[..., str]:
        return partial(self.translator.gettext, language)

    def _keep_session(self) -> None:
        """One HTTP session for all this sender's calls, in the running event loop: without one
        slack_sdk opens a session and a connection per call, which at a fan-out costs about as
        much CPU as the call itself."""
        loop = asyncio.get_running_loop()
        session = self.client.session
        if session is None or session.closed or self._session_loop is not loop:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
            self._session_loop = loop

    async def close(self) -> None:
        session, self.client.session = self.client.session, None
        if session is not None and not session.closed and self._session_loop is asyncio.get_running_loop():
            await session.close()
        self._session_loop = None

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self._keep_session()
        op = message.op
        method = METHODS[op]
        until = self._limited_until.get(method)
        if until is not None:
            wait = (until - self.clock()).total_seconds()
            if wait > 0:
                raise DeliveryError("ratelimited", retry_after=wait, attempted=False)
            del self._limited_until[method]
        try:
            if op is Op.PUBLISH_HOME:
                return await self._publish_home(delivery, message)
            if op is Op.SHOW_ANSWER:
                return await self._show_answer(message)
            if op is Op.DELIVER_EXPORT:
                return await self._export(delivery, message)
            if op is Op.DELIVER_RECORD:
                return await self._record(delivery, message)
            if op is Op.INTRODUCE:
                return await self._introduce(delivery, message)
            return await self._post(delivery, message)
        except SlackApiError as exc:
            error = delivery_error(exc)
            if error.retry_after is not None:
                self._limited_until[method] = self.clock() + timedelta(seconds=error.retry_after)
                if method == "chat.postMessage":
                    self.workspace_slots.forget()
                    self.channel_slots.forget()
                    await hold_after_429(self.store, self.workspace, error.retry_after)
            logger.info("slack %s to %s refused: %s", op.value, delivery.address, error.reason)
            raise error from exc
        except (TimeoutError, aiohttp.ClientError, SlackRequestError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        except (AttributeError, TypeError, KeyError, ValueError) as exc:
            # An answer of another shape than Slack's (slack_sdk hands it over as it came, and
            # reading it raises). The message may have been posted: sending it again could
            # post it twice, so it is not retried.
            reason = f"unexpected answer from Slack ({type(exc).__name__})"
            logger.warning("slack %s to %s: %s", op.value, delivery.address, reason)
            raise DeliveryError(reason, permanent=True) from None

    async def _paced(self, channel: str, following: int = 0) -> None:
        """A slot for one chat.postMessage: the workspace's first (waited for, a little), then
        the channel's (booked with those of the `following` messages to it). A post refused its
        channel's slot costs the workspace one slot; the other order would let a workspace wait
        of up to WORKSPACE_WAIT push the post past the channel's slot, and the channel's next
        post with it."""
        await self.workspace_slots.take()
        await self._channel_slot(channel, following)

    async def _channel_slot(self, channel: str, following: int = 0) -> None:
        await self.channel_slots.take(self.pace.channel(channel), CHANNEL_WAIT, 1 + following)

    # -- where a message goes -------------------------------------------------------------
    async def _channel(self, delivery: Delivery, fresh: bool = False) -> str:
        """A user's DM channel (opened once, then kept with their identity), or the channel itself."""
        if not is_user(delivery.address):
            return delivery.address
        known = (delivery.reference or {}).get("dm_channel")
        if known and not fresh:
            return str(known)
        opened = await self.client.conversations_open(users=delivery.address)
        channel = _text(opened["channel"]["id"])
        await identities.merge_reference(self.store, PLATFORM, delivery.address, {"dm_channel": channel})
        return channel

    async def _post(self, delivery: Delivery, message: Outgoing) -> str:
        channel = await self._channel(delivery)
        t = self.gettext(message.language)
        args: dict[str, Any] = {
            "text": fallback(message),
            "blocks": message_blocks(message, t),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        await self._paced(channel, delivery.following)
        try:
            response = await self.client.chat_postMessage(channel=channel, **args)
        except SlackApiError as exc:
            # A DM channel kept from earlier may be gone (e.g. the workspace was migrated).
            if exc.response.get("error") != "channel_not_found" or not is_user(delivery.address):
                raise
            channel = await self._channel(delivery, fresh=True)
            response = await self.client.chat_postMessage(channel=channel, **args)
        return message_id(_text(response["channel"]), _text(response["ts"]))

    async def _introduce(self, delivery: Delivery, message: Outgoing) -> str:
        """People paired with each other, all on Slack: one group DM with them and the bot,
        opened and posted to by the first of them (by user id), so the others' introductions,
        sent side by side, post nothing again. Someone paired with a person not on Slack gets the
        introduction in their own DM."""
        others = [d for _, d in delivery.companions]
        on_slack = [d.address for d in others if d is not None and d.platform == PLATFORM and is_user(d.address)]
        if not others or len(on_slack) != len(others) or not is_user(delivery.address):
            return await self._post(delivery, message)
        users = sorted({delivery.address, *on_slack})
        if delivery.address != users[0]:
            return f"group:{','.join(users)}"
        try:
            opened = await self.client.conversations_open(users=",".join(users))
        except SlackApiError as exc:
            if exc.response.get("error") != "missing_scope":
                raise
            # An app installed before pairing has no mpim:write: each gets the group's text
            # (every member's language) in their own DM instead, from here.
            logger.warning("slack: no group DM for an introduction (missing_scope); sent to each DM")
            alone = replace(message, text=message.group_text or message.text, op=Op.MESSAGE)
            mine = await self._post(delivery, alone)
            for _person_id, other in delivery.companions:
                if other is not None:
                    await self._post(other, alone)
            return mine
        channel = _text(opened["channel"]["id"])
        group = Outgoing(
            person_id=message.person_id, text=message.group_text or message.text, language=message.language
        )
        await self._paced(channel)
        response = await self.client.chat_postMessage(
            channel=channel,
            text=fallback(group),
            blocks=message_blocks(group, self.gettext(message.language)),
            unfurl_links=False,
            unfurl_media=False,
        )
        return message_id(_text(response["channel"]), _text(response["ts"]))

    # -- operations other than a new message -------------------------------------------------
    async def _show_answer(self, message: Outgoing) -> str:
        """Update the clicked message (a button's, or the one a form was opened from) to show
        the answer now stored for its question."""
        if message.shown_in is None or message.question_id is None:
            return ""  # a typed answer: Slack shows answers only on the message that was clicked
        target = message.shown_in
        original = await sent.sent_as(self.store, PLATFORM, target, message.person_id)
        answer = await reflections.recorded_answer(self.store, message.person_id, message.question_id)
        if original is None or answer is None:
            return target  # nothing of theirs to show (or already forgotten)
        question = Outgoing.from_json(original.payload)
        if question.question_id != message.question_id:
            return target
        channel, ts = target.split(":", 1)
        t = self.gettext(question.language)
        await self.client.chat_update(
            channel=channel, ts=ts, text=fallback(question), blocks=answered_blocks(question, answer, t)
        )
        return target

    async def _publish_home(self, delivery: Delivery, message: Outgoing) -> str:
        home = await home_for(self.store, message.person_id, self.clock())
        if home is None:
            return ""
        await self.client.views_publish(user_id=delivery.address, view=home_view(home, self.translator))
        return f"home:{delivery.address}"

    async def _export(self, delivery: Delivery, message: Outgoing) -> str:
        """The person's data as a JSON file in their DM (files.getUploadURLExternal, upload,
        files.completeUploadExternal), read when it is sent so it is never stale."""
        try:
            data = await export_person(self.store, message.person_id)
        except UnknownPerson:
            return ""
        channel = await self._channel(delivery)
        await self._channel_slot(channel)
        response = await self.client.files_upload_v2(
            channel=channel,
            content=json.dumps(data, ensure_ascii=False, indent=2),
            filename=f"reflectbot-{message.person_id}.json",
            title=f"reflectbot-{message.person_id}.json",
            initial_comment=escape(message.text),
        )
        file = response.get("file") or {}
        return f"file:{file.get('id', '')}"

    async def _record(self, delivery: Delivery, message: Outgoing) -> str:
        """The person's learning record as a PDF in their DM, printed now from storage."""
        try:
            pdf = await record_pdf_of(self.store, message.person_id, self.translator, message.language)
        except NoRecord:
            return ""
        channel = await self._channel(delivery)
        await self._channel_slot(channel)
        name = f"learning-record-{message.person_id}.pdf"
        response = await self.client.files_upload_v2(
            channel=channel, content=pdf, filename=name, title=name, initial_comment=escape(message.text)
        )
        file = response.get("file") or {}
        logger.info("slack: learning record for %s uploaded (%d bytes)", message.person_id, len(pdf))
        return f"file:{file.get('id', '')}"
