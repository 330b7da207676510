"""The Teams adapter: botbuilder's CloudAdapter behind `POST /api/messages`, and proactive sends.

Inbound: every activity is authenticated by botbuilder (JWT, when MICROSOFT_APP_ID is set),
translated (adapters.teams.translate), the person's conversation reference is stored, and a reply
is handed to `Engine.handle`, which stores it before Teams gets its HTTP answer. Outbound: the
outbox calls `send()`, which continues the stored conversation, or creates the 1:1 conversation
when none is stored, and turns Teams' refusals and throttling into `DeliveryError`s.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Mapping
from copy import deepcopy
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web
from botbuilder.core import BotAdapter, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError
from requests import RequestException

from adapters.teams import cards, lookups, references
from adapters.teams.connections import CachingAuthentication
from adapters.teams.pacing import Pacer
from adapters.teams.translate import ExportRequested, Installed, Said, Uninstalled, tenant_id, translate
from bot.commands import parse_command
from bot.engine import Engine
from bot.i18n import N_
from bot.messages import Delivery, Incoming, Op, Outgoing
from bot.ports import DeliveryError
from bot.privacy import UnknownPerson, export_person

logger = logging.getLogger(__name__)

CHANNEL = "msteams"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
EXPORT_INTRO = N_("Everything reflectbot keeps about you, as JSON:")
# Teams refuses messages above about 28 KB; the export goes in parts well below that.
EXPORT_PART = 16_000
CHANNEL_REFUSED = "Teams refused the channel post (is the app installed in that team?)"
DEV_MODE_WARNING = (
    "Teams: TEAMS_ENABLED is true and MICROSOFT_APP_ID is not set, so POST /api/messages accepts "
    "UNAUTHENTICATED traffic (development mode). Never expose this server to the internet in this mode."
)


class _Config:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads (APP_ID, APP_PASSWORD, ...)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds())


def _status(exc: HttpOperationError) -> tuple[int, float | None]:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    return status, _retry_after(getattr(response, "headers", None))


class TeamsAdapter:
    platform = "teams"
    supports = frozenset({Op.MESSAGE})

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        on_stored: Callable[[], None],
        app_id: str | None = None,
        app_password: str | None = None,
        tenant_id: str | None = None,
        app_type: str = "MultiTenant",
        service_url: str = DEFAULT_SERVICE_URL,
        tenant: str | None = None,
        auth_settings: Mapping[str, Any] | None = None,
    ) -> None:
        """`tenant` is the Teams tenant used when the programme names none; `auth_settings` adds
        botbuilder configuration keys (e.g. CHANNEL_SERVICE for a sovereign cloud, or the OpenID
        metadata URL)."""
        self.engine = engine
        self.store = engine.store
        self.clock = clock
        self.on_stored = on_stored
        self.app_id = app_id or None
        self.service_url = service_url if service_url.endswith("/") else service_url + "/"
        self.tenant = tenant
        self.authenticated = self.app_id is not None
        config = _Config(
            APP_ID=self.app_id or "",
            APP_PASSWORD=app_password or "",
            APP_TYPE=app_type or "MultiTenant",
            APP_TENANTID=tenant_id or "",
            **dict(auth_settings or {}),
        )
        self.cloud = CloudAdapter(CachingAuthentication(ConfigurationBotFrameworkAuthentication(config)))
        self.pacer = Pacer()

    # -- the server side ------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/messages", self.handle)]

    async def start(self) -> None:
        if not self.authenticated:
            logger.warning(DEV_MODE_WARNING)
        else:
            logger.info("teams: /api/messages authenticates activities for app %s", self.app_id)

    async def stop(self) -> None:
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()  # aiohttp keeps the body, so botbuilder reads it again
        except ValueError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not body.get("type"):
            return web.json_response({"error": "not an activity"}, status=400)
        try:
            activity = Activity().deserialize(body)
        except DeserializationError:
            return web.json_response({"error": "not an activity"}, status=400)
        auth_header = request.headers.get("Authorization") or None
        if self.authenticated and auth_header is None:
            return web.json_response({"error": "unauthorized"}, status=401)
        # Authentication first and on its own, so that every way a token can fail (missing,
        # forged, expired, for another bot, signed for another serviceUrl) is a 401, while a
        # failure to store the reply stays a 500 that Teams retries.
        try:
            authenticated = await self.cloud.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except RequestException as exc:
            logger.error(
                "teams: signing keys unavailable (%s); activity %s refused", type(exc).__name__, activity.id
            )
            return web.json_response({"error": "authentication unavailable"}, status=503)
        except Exception as exc:
            logger.warning("teams: activity %s failed authentication: %s", activity.id, type(exc).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        invoke = await self.cloud.process_activity(authenticated, activity, self.on_turn)
        if invoke is not None:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)

    async def on_turn(self, context: TurnContext) -> None:
        """Called by CloudAdapter for each activity that passed authentication."""
        activity = context.activity
        if self.authenticated:
            identity = context.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
            if identity is None or not identity.is_authenticated:
                logger.warning("teams: activity %s without an authenticated identity ignored", activity.id)
                return
        event = translate(activity)
        if event is None:
            logger.debug("teams: %s activity ignored", activity.type)
            return
        now = self.clock()
        if isinstance(event, Uninstalled):
            await references.drop(self.store, event.user_id)
            return
        # A text reply answers the current question: note which, to update its card afterwards.
        wants_current = isinstance(event, Said) and _may_answer_current(event.incoming)
        known = await self._remember(activity, event.user_id, now, wants_current)
        if isinstance(event, Installed):
            if known is not None:
                self.on_stored()  # prompts held while they were unreachable may be due now
            return
        if isinstance(event, ExportRequested):
            if known is not None:
                await self._export(context, event.user_id)
                return
            # Someone the programme does not know: the engine answers them, storing nothing.
            event = Said(Incoming("teams", event.user_id, text="export", event_id=event.event_id))
        await self._said(context, event.incoming, known, now)

    async def _remember(
        self, activity: Activity, user_id: str, now: datetime, current_question: bool = False
    ) -> references.Known | None:
        reference = TurnContext.get_conversation_reference(activity)
        # Proactive sends do not reply to the person's last message, so that id is not kept.
        reference.activity_id = None
        data = references.stored(reference.serialize(), activity.service_url, tenant_id(activity), now)
        return await references.save(self.store, user_id, data, now, current_question)

    async def _said(
        self, context: TurnContext, incoming: Incoming, known: references.Known | None, now: datetime
    ) -> None:
        immediate = await self.engine.handle(incoming, now)
        if known is not None:
            logger.info("teams: reply from %s stored (event %s)", known.person_id, incoming.event_id)
            self.on_stored()
        for message in immediate:
            await context.send_activity(self.render(message))
        question_id = incoming.question_id or (known.current_question_id if known else None)
        if known is not None and question_id is not None:
            await self._show_answer(context, known.person_id, question_id, now)

    async def _show_answer(
        self, context: TurnContext, person_id: str, question_id: int, now: datetime
    ) -> None:
        """Replace the answered card by one that shows the recorded answer."""
        found = await lookups.answered_card(self.store, person_id, question_id, now)
        if found is None:
            return
        message_id, payload, answer = found
        asked = Outgoing.from_json(payload)
        card = cards.answered_card(asked, answer, self._gettext(asked.language))
        update = Activity(
            type=ActivityTypes.message, id=message_id, attachments=[Attachment(**_attachment(card))]
        )
        try:
            await context.update_activity(update)
        except (HttpOperationError, ClientRequestError) as exc:
            # The answer is stored; an old-looking card is all that is lost.
            logger.warning(
                "teams: card %s for question %s not updated: %s", message_id, question_id, type(exc).__name__
            )

    async def _export(self, context: TurnContext, user_id: str) -> None:
        """The person's own data, back in their own chat (never stored anywhere on the way)."""
        recipient = await references.recipient(self.store, user_id)
        if recipient is None:
            return
        try:
            data = await export_person(self.store, recipient.person_id)
        except UnknownPerson:
            return
        person_id, language = recipient.person_id, recipient.language
        text = json.dumps(data, ensure_ascii=False, indent=2)
        parts = _split(text, EXPORT_PART)
        logger.info("teams: export for %s sent in %d parts", person_id, len(parts))
        for number, part in enumerate(parts):
            intro = f"{html.escape(self._gettext(language)(EXPORT_INTRO))}<br>" if number == 0 else ""
            await context.send_activity(
                Activity(
                    type=ActivityTypes.message,
                    text_format="xml",
                    text=f"{intro}<pre>{html.escape(part)}</pre>",
                )
            )

    # -- the sending side -----------------------------------------------------------------
    def _gettext(self, language: str) -> Callable[..., str]:
        translator = self.engine.translator
        return lambda message, **values: translator.gettext(language, message, **values)

    def render(self, message: Outgoing) -> Activity:
        if cards.needs_card(message):
            card = cards.message_card(message, self._gettext(message.language))
            return Activity(
                type=ActivityTypes.message,
                summary=message.text[:200],
                attachments=[Attachment(**_attachment(card))],
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

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        now = self.clock()
        held = self.pacer.held_for(delivery.address, now)
        if held > 0:
            raise DeliveryError("Teams asked to wait (429)", retry_after=held, attempted=False)
        activity = self.render(message)
        try:
            if _is_channel(delivery.address):
                return await self._post_in_channel(delivery.address, activity)
            if delivery.reference and delivery.reference.get("conversation_reference"):
                try:
                    return await self._continue(delivery.reference, activity)
                except _Refused as gone:
                    # The app was removed, or the conversation is gone: start a new one once.
                    logger.info(
                        "teams: stored conversation for %s refused (%s)", message.person_id, gone.status
                    )
                    await references.drop(self.store, delivery.address)
                    activity = self.render(message)
            return await self._create(delivery.address, message.person_id, activity)
        except _Refused as refused:
            if _is_channel(delivery.address):
                raise DeliveryError(CHANNEL_REFUSED, permanent=True) from refused
            await references.mark_unreachable(self.store, message.person_id, references.NOT_INSTALLED)
            raise DeliveryError(references.NOT_INSTALLED, permanent=True) from refused
        except HttpOperationError as exc:
            status, retry_after = _status(exc)
            if status == 429:
                wait = retry_after or 1.0
                self.pacer.hold(delivery.address, now + timedelta(seconds=wait))
                raise DeliveryError("Teams throttled (429)", retry_after=wait) from exc
            if 400 <= status < 500 and status not in (401, 408):
                raise DeliveryError(f"Teams refused the message ({status})", permanent=True) from exc
            raise DeliveryError(f"Teams connector error ({status})", retry_after=retry_after) from exc
        except ClientRequestError as exc:
            raise DeliveryError(f"Teams connector unreachable: {type(exc).__name__}") from exc

    async def _send_in(self, context: TurnContext, conversation_id: str, activity: Activity) -> str:
        """A new message in the conversation (POST .../activities), not a reply to anything: in a
        channel a reply would need a real thread to answer."""
        await self.pacer.wait(conversation_id)
        outgoing = TurnContext.apply_conversation_reference(
            deepcopy(activity), TurnContext.get_conversation_reference(context.activity)
        )
        outgoing.reply_to_id = None
        [response] = await context.adapter.send_activities(context, [outgoing])
        return response.id if response and response.id else ""

    async def _continue(self, stored: Mapping[str, Any], activity: Activity) -> str:
        reference = ConversationReference().deserialize(stored["conversation_reference"])
        conversation_id = reference.conversation.id if reference.conversation else ""
        sent: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                sent["id"] = await self._send_in(context, conversation_id, activity)
            except Exception as exc:  # re-raised below, not left to the adapter's error handler
                sent["error"] = exc

        await self.cloud.continue_conversation(reference, callback, self.app_id or "")
        return self._result(sent, refusal=(403, 404))

    async def _post_in_channel(self, channel_id: str, activity: Activity) -> str:
        """A post to a team's channel (a panel's audience), as a new thread in it."""
        reference = ConversationReference(
            channel_id=CHANNEL,
            service_url=self.service_url,
            conversation=ConversationAccount(
                id=channel_id, is_group=True, conversation_type="channel", tenant_id=self.tenant
            ),
            bot=self._bot(),
        )
        return await self._continue({"conversation_reference": reference.serialize()}, activity)

    def _bot(self) -> ChannelAccount:
        return ChannelAccount(id=f"28:{self.app_id or 'reflectbot'}")

    async def _create(self, user_id: str, person_id: str, activity: Activity) -> str:
        tenant = await references.tenant_of(self.store, person_id) or self.tenant
        bot = self._bot()
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        sent: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                conversation_id = context.activity.conversation.id
                reference = ConversationReference(
                    channel_id=CHANNEL,
                    service_url=self.service_url,
                    conversation=ConversationAccount(
                        id=conversation_id, conversation_type="personal", tenant_id=tenant
                    ),
                    user=ChannelAccount(id=user_id, aad_object_id=user_id),
                    bot=bot,
                )
                now = self.clock()
                data = references.stored(reference.serialize(), self.service_url, tenant, now)
                await references.save(self.store, user_id, data, now)
                logger.info("teams: 1:1 conversation created for %s", person_id)
                sent["id"] = await self._send_in(context, conversation_id, activity)
            except Exception as exc:
                sent["error"] = exc

        try:
            await self.cloud.create_conversation(
                self.app_id or "", callback, parameters, CHANNEL, self.service_url, None
            )
        except HttpOperationError as exc:
            status, _ = _status(exc)
            if 400 <= status < 500 and status not in (401, 408, 429):
                raise _Refused(status) from exc
            raise
        return self._result(sent, refusal=())

    @staticmethod
    def _result(sent: dict[str, Any], refusal: tuple[int, ...]) -> str:
        error = sent.get("error")
        if error is not None:
            if isinstance(error, HttpOperationError) and _status(error)[0] in refusal:
                raise _Refused(_status(error)[0]) from error
            raise error
        return str(sent.get("id", ""))


def _is_channel(address: str) -> bool:
    """Teams conversation ids of channels start with "19:"; people are addressed by their
    Entra object id (a GUID)."""
    return address.startswith("19:")


def _may_answer_current(incoming: Incoming) -> bool:
    """A typed text that is not a command may answer the current question."""
    if incoming.question_id is not None or incoming.action is not None or not incoming.text:
        return False
    return parse_command(incoming.text, explicit=incoming.is_command) is None


def _attachment(card: dict[str, Any]) -> dict[str, Any]:
    data = cards.attachment(card)
    return {"content_type": data["contentType"], "content": data["content"]}


def _split(text: str, size: int) -> list[str]:
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
