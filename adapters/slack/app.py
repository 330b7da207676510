"""The Slack adapter: slack-bolt's AsyncApp behind `POST /slack/events` (or Socket Mode), and the
outbox's Slack sender.

Every request is verified (bolt checks the signing secret), read by `adapters.slack.translate`
and handed to `Engine.accept`, which keeps it in the inbox in one statement, before bolt answers
Slack (`process_before_response=True`), so Slack hears back well within its three seconds however
busy the engine is. `on_stored()` then wakes the server's work loop, which has the engine take the
reply and sends what follows through the outbox: the next question, the update that shows a
recorded answer, the App Home view, an export. Only what cannot wait or cannot be stored is sent
from the request itself: opening a form (its trigger_id lives three seconds) and the answer to
someone the programme does not know.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.payloads import Malformed
from adapters.slack import gate, texts
from adapters.slack.blocks import escape, fit, form_view, mrkdwn
from adapters.slack.sender import SlackPace, SlackSender
from adapters.slack.translate import COMMAND, FORM_CALLBACK, PLATFORM, PREFIX, FromSlack, translate
from bot.engine import Engine
from bot.flows import FLOWS
from bot.messages import Delivery, Outgoing
from storage import identities, reflections

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"


class SlackAdapter:
    platform = PLATFORM
    supports = SlackSender.supports

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        on_stored: Callable[[], None],
        bot_token: str,
        signing_secret: str | None = None,
        app_token: str | None = None,
        api_url: str = DEFAULT_API_URL,
        messages_per_second: float = 1.0,
        workspace_messages_per_minute: float = 600.0,
    ) -> None:
        if not app_token and not signing_secret:
            # Without a secret nothing could tell Slack's requests from anyone else's.
            raise ValueError(
                "Slack over HTTP needs SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)"
            )
        self.engine = engine
        self.store = engine.store
        self.translator = engine.translator
        self.clock = clock
        self.on_stored = on_stored
        self.app_token = app_token
        self.signing_secret = signing_secret or ""
        # Listeners' own calls (opening a form, answering someone unknown) wait out one 429; the
        # outbox's sends do not, so that a 429 goes back to the outbox and blocks nobody else.
        client = AsyncWebClient(token=bot_token, base_url=api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            process_before_response=True,
            logger=logging.getLogger("adapters.slack.bolt"),
        )
        self.sender = SlackSender(
            AsyncWebClient(token=bot_token, base_url=api_url),
            self.store,
            self.translator,
            clock,
            SlackPace(
                messages_per_second=messages_per_second, workspace_per_minute=workspace_messages_per_minute
            ),
        )
        self._socket: Any = None
        self.app.error(self._on_error)
        self._listen()

    # -- PlatformAdapter ------------------------------------------------------------------
    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        return await self.sender.send(delivery, message)

    def routes(self) -> list[web.RouteDef]:
        # Socket Mode replaces the public URL: no unauthenticated door is left open.
        return [] if self.app_token else [web.post(EVENTS_PATH, self.handle_http)]

    async def start(self) -> None:
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()
            logger.info("slack: socket mode connected")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.sender.close()

    async def handle_http(self, request: web.Request) -> web.Response:
        """Signed and recent (401), a body Slack sends (400), then bolt."""
        raw = await request.read()  # aiohttp answers 413 above client_max_size
        try:
            gate.verify(request.headers, raw, self.signing_secret, time.time())
        except gate.Unsigned as refused:
            logger.info("slack: request refused (401): %s", refused.reason)
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text, body = gate.parse(raw, request.content_type, request.charset)
            # What the listeners will read, read once here so that a body of another shape is
            # refused before bolt (whose own readers of it raise on some shapes) is given it.
            translate(body)
            bolt_request = _bolt_request(text, request)
        except Malformed as malformed:
            logger.info("slack: signed request refused (400): %s", malformed.reason)
            return web.json_response({"error": "malformed request"}, status=400)
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def _on_error(self, error: Exception) -> BoltResponse:
        """What bolt does with a listener's error: a malformed body is the sender's (400, as
        over HTTP); anything else (the inbox unreachable) is a 500 that Slack retries. One line,
        the error's type only: its message may quote the body."""
        if isinstance(error, Malformed) or (
            isinstance(error, (AttributeError, TypeError, KeyError, IndexError, ValueError))
            and _raised_in(error, "slack_bolt")
        ):
            reason = error.reason if isinstance(error, Malformed) else type(error).__name__
            logger.info("slack: request refused (400): %s", reason)
            return BoltResponse(status=400, body={"error": "malformed request"})
        if isinstance(error, (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)) or (
            isinstance(error, (AttributeError, TypeError, KeyError, ValueError))
            and _raised_in(error, "slack_sdk")
        ):
            # A call to Slack from the request (opening a form, answering someone unknown)
            # failed; nothing was stored, and a retry of the request would only call again.
            logger.warning("slack: call from a request failed: %s", type(error).__name__)
            return BoltResponse(status=200, body="")
        logger.error("slack: request failed: %s", type(error).__name__)
        return BoltResponse(status=500, body="")

    # -- listeners ------------------------------------------------------------------------
    def _listen(self) -> None:
        app = self.app
        app.event("message")(self._on_event)
        app.event("app_home_opened")(self._on_event)
        # Every other event (joins, channel changes...) is acknowledged and ignored, so Slack
        # does not retry it.
        app.event(re.compile(".*"))(self._ignore_event)
        app.action(re.compile("^" + re.escape(PREFIX)))(self._on_action)
        app.action(re.compile(".*"))(self._ack)
        app.view(FORM_CALLBACK)(self._on_view)
        app.view(re.compile(".*"))(self._ack)
        app.command(COMMAND)(self._on_command)

    async def _ignore_event(self) -> None:
        return None

    async def _ack(self, ack: Any) -> None:
        await ack()

    async def _on_event(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        read = translate(body)
        if read is None:
            return
        replies = await self._take(read)
        if not replies:
            return
        if read.kind == "home":
            await client.views_publish(user_id=read.user_id, view=self._stranger_home(replies[0]))
        elif read.channel:
            for reply in replies:
                await client.chat_postMessage(channel=read.channel, text=escape(reply.text))

    async def _on_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        read = translate(body)
        if read is None:
            return
        if read.kind == "open_form":
            await self._open_form(read, client)
            return
        await self._take(read)

    async def _on_view(self, ack: Any, body: dict[str, Any]) -> None:
        read = translate(body)
        await ack()
        if read is not None:
            await self._take(read)

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        read = translate(body)
        if read is None:
            await ack()
            return
        replies = await self._take(read)
        if replies:
            await ack(response_type="ephemeral", text=escape(replies[0].text))
            return
        # Answers come in the DM; typed anywhere else, the person is told where to look.
        if not (read.channel or "").startswith("D"):
            known = await identities.recipient(self.store, PLATFORM, read.user_id)
            told = self.translator.gettext(known.language if known else "en", texts.ANSWERED_IN_DM)
            await ack(response_type="ephemeral", text=escape(told))
        else:
            await ack()

    # -- what the listeners do ------------------------------------------------------------
    async def _take(self, read: FromSlack) -> list[Outgoing]:
        """Keep what the person sent in the inbox (the server's work loop takes it right after);
        returns the answer for someone unknown (nothing stored)."""
        assert read.incoming is not None
        replies = await self.engine.accept(read.incoming, self.clock())
        if replies:
            logger.info("slack: %s is not in the programme; answered, nothing stored", read.user_id)
            return replies
        self.on_stored()
        return []

    async def _open_form(self, read: FromSlack, client: AsyncWebClient) -> None:
        if read.question_id is None:
            return
        question = await reflections.asked_question(self.store, PLATFORM, read.user_id, read.question_id)
        if question is None:
            return
        t = partial(self.translator.gettext, question.language)
        label = t(FLOWS[question.flow].title) if question.flow else None
        view = form_view(question.question_id, question.text, question.goal, label, read.message, t)
        await client.views_open(trigger_id=read.trigger_id, view=view)

    def _stranger_home(self, reply: Outgoing) -> dict[str, Any]:
        return {"type": "home", "blocks": [{"type": "section", "text": mrkdwn(fit(reply.text, 2900))}]}


def _bolt_request(text: str, request: web.Request) -> AsyncBoltRequest:
    """Bolt's request (`to_bolt_request` with the text already read); bolt reads ids out of the
    body as it builds it, which raises on some shapes no Slack request has."""
    try:
        built = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        # Bolt reads the body with these before every listener and error handler (to offer
        # `event`, `action`, `view`...), outside any handler of its errors.
        for read in _BOLT_READERS:
            read(built.body)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise Malformed(f"slack body: {type(exc).__name__}") from None
    return built


_BOLT_READERS = [
    function
    for name, function in vars(payload_utils).items()
    if name.startswith(("to_", "is_")) and inspect.isfunction(function)
]


def _raised_in(error: Exception, package: str) -> bool:
    """Whether that library itself raised it: bolt reading a body of another shape than Slack's
    (its matchers index into it), or slack_sdk reading an answer of another shape than Slack's."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and f"/{package}/" in frames[-1].filename.replace("\\", "/")
