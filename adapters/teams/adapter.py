"""The Teams adapter: `POST /api/messages` behind botbuilder's authentication, and the outbox's
Teams sender (proactive sends through botbuilder's CloudAdapter).

Inbound, only what must happen before Teams gets its HTTP answer: the activity is authenticated
exactly as CloudAdapter does it (`authenticate_request`: the Bot Framework JWT when
MICROSOFT_APP_ID is set), translated (adapters.teams.translate), the sender's conversation
reference is stored when it is new or changed, and a reply is kept by `Engine.accept` (one
statement in the inbox). `on_stored()` then wakes the server's work loop, which has the engine take
it and sends what follows through the outbox: the next card, the answered card showing its
answer, an export. Only the answer to someone the programme does not know is sent from the
request (nothing of theirs is stored), and an invoke or an `expectReplies` activity, whose answer
goes in the response body, runs through CloudAdapter's own pipeline.

Outbound, `send()` continues the stored conversation, or creates the 1:1 conversation when none
is stored, and turns Teams' refusals and throttling into `DeliveryError`s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from copy import deepcopy
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    DeliveryModes,
)
from botframework.connector.auth import AuthenticateRequestResult
from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError
from requests import RequestException

from adapters.pacing import LaneSlots, SharedSlots, block_of, hold_after_429
from adapters.payloads import Malformed, load_json
from adapters.teams import activities, references
from adapters.teams.connections import CachingAuthentication
from adapters.teams.references import NOT_INSTALLED, PLATFORM, Remembered
from adapters.teams.translate import Installed, Uninstalled, check_body, tenant_id, translate
from bot.engine import Engine
from bot.messages import Delivery, Op, Outgoing
from bot.ports import DeliveryError
from bot.privacy import UnknownPerson, export_person
from bot.record_links import RecordLinks
from storage import identities, reflections, sent
from storage.pacing import Bucket

logger = logging.getLogger(__name__)

CHANNEL = "msteams"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
NO_ID = "Teams connector answered without the message's id"
UNREADABLE = "Teams connector's answer could not be read"
CHANNEL_REFUSED = "Teams refused the channel post (is the app installed in that team?)"
DEV_MODE_WARNING = (
    "Teams: TEAMS_ENABLED is true and MICROSOFT_APP_ID is not set, so POST /api/messages accepts "
    "UNAUTHENTICATED traffic (development mode). Never expose this server to the internet in this mode."
)

# Teams allows 7 sends a second and 8 in 2 seconds per bot per conversation (60 in 30 s, 1800
# an hour): a burst of 4 then 1.8 a second allows at most 5 in a second, 7 in two and 58 in 30.
# (The hourly limit would take a conversation sent to without pause for a quarter of an hour.)
CONVERSATION_RATE, CONVERSATION_BURST = 1.8, 4
# The tenant's limit (TEAMS_TENANT_REQUESTS_PER_SECOND) allows this many at once: with 30 a
# second, 40 in any second, under the 50 Teams may allow.
TENANT_BURST = 10
# How long a send waits in place for its slot before going back to the outbox (see
# adapters.pacing): the tenant's slots are everyone's, so a little; a conversation's next slot is
# at most about half a second away once its burst is spent, so a send waits for that too, but
# not behind a Retry-After; the later parts of one message (an export in several) wait longer,
# to follow the first without another trip through the outbox.
TENANT_WAIT = 2.0
CONVERSATION_WAIT = 1.0
PART_WAIT = 10.0


class _Config:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads (APP_ID, APP_PASSWORD, ...)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# What one send does inside a continued (or created) conversation: (turn, conversation id) → the
# platform's message id.
Work = Callable[[TurnContext, str], Awaitable[str]]


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
    platform = PLATFORM
    # A home view is Slack's App Home; Teams has none, so the outbox sets PUBLISH_HOME aside.
    supports = frozenset({Op.MESSAGE, Op.SHOW_ANSWER, Op.DELIVER_EXPORT, Op.INTRODUCE, Op.DELIVER_RECORD})

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
        tenant_requests_per_second: float = 30.0,
        record_links: RecordLinks | None = None,
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
        self.tenant_rate = tenant_requests_per_second
        self._tenant_slots: dict[str, SharedSlots] = {}  # a tenant's shared bucket, booked in blocks
        self._conversation_slots = LaneSlots(self.store)
        self.remembered = Remembered()
        # A bot cannot simply attach a file to a 1:1 chat: the learning record goes as a link.
        self.record_links = record_links

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
            # Limits (size by aiohttp: 413; depth) before parsing, and the same answer for every
            # body that is not an activity, whether authenticated or not.
            body = load_json(await request.read())
        except Malformed as malformed:
            logger.info("teams: request refused (400): %s", malformed.reason)
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return web.json_response({"error": "not an activity"}, status=400)
        try:
            check_body(body)
        except Malformed as malformed:
            logger.info("teams: request refused (400): %s", malformed.reason)
            return web.json_response({"error": "not an activity"}, status=400)
        try:
            activity = Activity().deserialize(body)
        except Exception as exc:  # msrest reading a body anyone can send; its errors vary
            logger.info("teams: request refused (400): not an activity (%s)", type(exc).__name__)
            return web.json_response({"error": "not an activity"}, status=400)
        if not self.authenticated:
            # Development mode: nothing vouches for the serviceUrl an activity names, so
            # replies, and references kept for later prompts, go to TEAMS_SERVICE_URL only.
            activity.service_url = self.service_url
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
        identity = authenticated.claims_identity
        if self.authenticated and (identity is None or not identity.is_authenticated):
            logger.warning("teams: activity %s without an authenticated identity refused", activity.id)
            return web.json_response({"error": "unauthorized"}, status=401)
        if activity.type == ActivityTypes.invoke:
            # Nothing here handles invokes (card actions arrive as messages): an empty invoke
            # response, so Teams shows no error, and nothing stored.
            logger.debug("teams: invoke %s answered empty", activity.id)
            return web.Response(status=200)
        try:
            translate(activity)
        except Malformed as malformed:
            logger.info("teams: activity %s refused (400): %s", activity.id, malformed.reason)
            return web.json_response({"error": "not an activity"}, status=400)
        if activity.delivery_mode == DeliveryModes.expect_replies:
            # Their answer goes in the response body: botbuilder's pipeline builds it.
            invoke = await self.cloud.process_activity(authenticated, activity, self._on_turn)
            if invoke is not None:
                return web.json_response(serializer_helper(invoke.body), status=invoke.status)
            return web.Response(status=201)
        try:
            replies = await self._receive(activity)
        except Exception as exc:
            # Not kept (the database unreachable): a 500, which Teams retries. One line with the
            # error's type: its message (SQLAlchemy's quotes the parameters) may hold the text.
            logger.error("teams: activity %s not kept: %s", activity.id, type(exc).__name__)
            return web.json_response({"error": "not kept, try again"}, status=500)
        if replies:
            await self._answer_in_request(authenticated, activity, replies)
        return web.Response(status=201)

    async def _on_turn(self, context: TurnContext) -> None:
        for reply in await self._receive(context.activity):
            await context.send_activity(self.render(reply))

    async def _receive(self, activity: Activity) -> list[Outgoing]:
        """Keep what the activity says; returns the answer for someone the programme does not
        know (nothing of theirs is stored)."""
        event = translate(activity)
        if event is None:
            logger.debug("teams: %s activity ignored", activity.type)
            return []
        now = self.clock()
        if isinstance(event, Uninstalled):
            self.remembered.forget(event.user_id)
            await identities.drop_reference(self.store, PLATFORM, event.user_id)
            return []
        # An installation always looks at storage: it may make someone reachable again.
        person_id = await self._remember(activity, event.user_id, now, fresh=isinstance(event, Installed))
        if isinstance(event, Installed):
            if person_id is not None:
                self.on_stored()  # prompts held while they were unreachable may be due now
            return []
        replies = await self.engine.accept(event.incoming, now)
        if replies:
            self.remembered.forget(event.user_id)
            logger.info("teams: %s is not in the programme; answered, nothing stored", event.user_id)
            return replies
        logger.debug("teams: reply from %s kept (event %s)", person_id, event.incoming.event_id)
        self.on_stored()
        return []

    async def _remember(self, activity: Activity, user_id: str, now: datetime, fresh: bool) -> str | None:
        """Store the activity's conversation reference for the person with this Teams id, unless
        this process knows it is stored already; returns their person id (None: someone unknown,
        for whom nothing is stored)."""
        reference = TurnContext.get_conversation_reference(activity)
        # Proactive sends do not reply to the person's last message, so that id is not kept.
        reference.activity_id = None
        data = references.stored(reference.serialize(), activity.service_url, tenant_id(activity), now)
        if not fresh and (known := self.remembered.person_for(user_id, data)) is not None:
            return known
        person_id = await identities.save_reference(
            self.store, PLATFORM, user_id, data, now, ignore=references.IGNORED
        )
        if person_id is None:
            self.remembered.forget(user_id)
        else:
            self.remembered.keep(user_id, person_id, data)
        return person_id

    async def _answer_in_request(
        self, authenticated: AuthenticateRequestResult, activity: Activity, replies: list[Outgoing]
    ) -> None:
        """Reply in the activity's conversation, through botbuilder's pipeline."""

        async def answer(context: TurnContext) -> None:
            for reply in replies:
                await context.send_activity(self.render(reply))

        await self.cloud.process_activity(authenticated, activity, answer)

    # -- the sending side -----------------------------------------------------------------
    def _gettext(self, language: str) -> Callable[..., str]:
        translator = self.engine.translator
        return lambda message, **values: translator.gettext(language, message, **values)

    def render(self, message: Outgoing) -> Activity:
        return activities.message(message, self._gettext(message.language))

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        try:
            if message.op is Op.SHOW_ANSWER:
                return await self._show_answer(delivery, message)
            if message.op is Op.DELIVER_EXPORT:
                parts = await self._export(message)
                return await self._deliver(delivery, message.person_id, parts) if parts else ""
            if message.op is Op.INTRODUCE:
                return await self._deliver(delivery, message.person_id, [self._introduction(delivery, message)])
            if message.op is Op.DELIVER_RECORD:
                return await self._deliver(delivery, message.person_id, [await self._record(message)])
            return await self._deliver(delivery, message.person_id, [self.render(message)])
        except HttpOperationError as exc:
            status, retry_after = _status(exc)
            if status == 429:
                # The conversation's bucket is held a moment already (`_sending`).
                raise DeliveryError("Teams throttled (429)", retry_after=retry_after or 1.0) from exc
            if 400 <= status < 500 and status not in (401, 408):
                raise DeliveryError(f"Teams refused the message ({status})", permanent=True) from exc
            raise DeliveryError(f"Teams connector error ({status})", retry_after=retry_after) from exc
        except ClientRequestError as exc:
            raise DeliveryError(f"Teams connector unreachable: {type(exc).__name__}") from exc
        except DeserializationError:
            # An answer botbuilder cannot read (not JSON, another shape): perhaps posted.
            logger.warning("teams %s to %s: %s", message.op.value, delivery.address, UNREADABLE)
            raise DeliveryError(UNREADABLE, permanent=True) from None
        except DeliveryError as error:
            if error.reason == NO_ID:
                logger.warning("teams %s to %s: %s", message.op.value, delivery.address, NO_ID)
            raise

    def _introduction(self, delivery: Delivery, message: Outgoing) -> Activity:
        """Teams lets a bot start no group chat: each member gets the introduction 1:1, with a
        link to chat with each of the others who is on Teams."""
        names = {c.person_id: c.name for c in message.companions}
        on_teams = [
            (names.get(person_id, ""), d.address)
            for person_id, d in delivery.companions
            if d is not None and d.platform == PLATFORM
        ]
        return activities.introduction(message, self._gettext(message.language), on_teams)

    async def _deliver(self, delivery: Delivery, person_id: str, sending: list[Activity]) -> str:
        """New messages in the person's chat (or a channel); returns the first one's id."""

        async def post(context: TurnContext, conversation_id: str) -> str:
            return await self._send_in(context, conversation_id, sending, delivery.following)

        try:
            if _is_channel(delivery.address):
                return await self._post_in_channel(delivery.address, post)
            if delivery.reference and delivery.reference.get("conversation_reference"):
                try:
                    return await _refusing(self._continue(delivery.reference, post), (403, 404))
                except _Refused as gone:
                    # The app was removed, or the conversation is gone: start a new one once.
                    logger.info("teams: stored conversation for %s refused (%s)", person_id, gone.status)
                    self.remembered.forget(delivery.address)
                    await identities.drop_reference(self.store, PLATFORM, delivery.address)
            return await self._create(delivery.address, person_id, post)
        except _Refused as refused:
            if _is_channel(delivery.address):
                raise DeliveryError(CHANNEL_REFUSED, permanent=True) from refused
            self.remembered.forget(delivery.address)
            await identities.mark_unreachable(self.store, person_id, NOT_INSTALLED)
            raise DeliveryError(NOT_INSTALLED, permanent=True) from refused

    async def _show_answer(self, delivery: Delivery, message: Outgoing) -> str:
        """Replace the card that asked the question by one that shows the answer now recorded.
        Only the card is lost when this fails (the answer is stored), so a failure is logged and
        not retried, except Teams asking to wait (429)."""
        if message.question_id is None or not (delivery.reference or {}).get("conversation_reference"):
            return ""  # no card of theirs this could reach
        asked = await self._card_that_asked(message)
        if asked is None:
            return ""  # e.g. answered before its card went out
        answer = await reflections.recorded_answer(self.store, message.person_id, message.question_id)
        if answer is None:
            return ""  # forgotten meanwhile
        question = Outgoing.from_json(asked.payload)
        gettext = self._gettext(question.language)
        update = activities.answered(asked.platform_message_id, question, answer, gettext)

        async def replace(context: TurnContext, conversation_id: str) -> str:
            async with self._sending(context, conversation_id, CONVERSATION_WAIT):
                await context.update_activity(update)
            return asked.platform_message_id

        assert delivery.reference is not None
        try:
            return await self._continue(delivery.reference, replace)
        except HttpOperationError as exc:
            if _status(exc)[0] == 429:
                raise
            error = type(exc).__name__ + f" {_status(exc)[0]}"
        except ClientRequestError as exc:
            error = type(exc).__name__
        logger.warning(
            "teams: card %s for question %s not updated: %s",
            asked.platform_message_id,
            message.question_id,
            error,
        )
        return asked.platform_message_id

    async def _card_that_asked(self, message: Outgoing) -> sent.SentMessage | None:
        """The card the person used (when Teams named it and it asked this question of them),
        else the latest that asked it."""
        assert message.question_id is not None
        if message.shown_in is not None:
            clicked = await sent.sent_as(self.store, PLATFORM, message.shown_in, message.person_id)
            if clicked is not None and clicked.payload.get("question_id") == message.question_id:
                return clicked
        return await sent.latest_asking(self.store, PLATFORM, message.person_id, message.question_id)

    async def _record(self, message: Outgoing) -> Activity:
        """A signed link to the person's learning record (GET /web/record/TOKEN), or one line
        saying why there is none (no WEB_BASE_URL)."""
        url = await self.record_links.url(message.person_id, self.clock()) if self.record_links else None
        gettext = self._gettext(message.language)
        logger.info("teams: learning record for %s %s", message.person_id, "linked" if url else "not linked")
        return activities.record_link(message.text, url, gettext)

    async def _export(self, message: Outgoing) -> list[Activity]:
        """The person's own data, read now; `message.text` introduces it."""
        try:
            data = await export_person(self.store, message.person_id)
        except UnknownPerson:
            return []
        parts = activities.export(message.text, data)
        logger.info("teams: export for %s in %d parts", message.person_id, len(parts))
        return parts

    async def _send_in(
        self, context: TurnContext, conversation_id: str, sending: list[Activity], following: int = 0
    ) -> str:
        """New messages in the conversation (POST .../activities), not replies to anything: in a
        channel a reply would need a real thread to answer. Returns the first one's id. (Should a
        later one fail, the outbox sends them all again.) The conversation's pace is booked for
        these parts and the `following` messages together."""
        reference = TurnContext.get_conversation_reference(context.activity)
        first = ""
        for activity in sending:
            outgoing = TurnContext.apply_conversation_reference(deepcopy(activity), reference)
            outgoing.reply_to_id = None
            ahead = 0 if first else len(sending) - 1 + following
            async with self._sending(context, conversation_id, PART_WAIT if first else CONVERSATION_WAIT, ahead):
                [response] = await context.adapter.send_activities(context, [outgoing])
            if response is None or not isinstance(response.id, str) or not response.id:
                # Accepted, perhaps posted, but not named: sending again could post it twice.
                raise DeliveryError(NO_ID, permanent=True)
            first = first or response.id
        return first

    @asynccontextmanager
    async def _sending(
        self, context: TurnContext, conversation_id: str, wait: float, ahead: int = 0
    ) -> AsyncIterator[None]:
        """One request to the connector in this conversation, paced in the shared buckets: the
        tenant's first (waited for), then the conversation's (see adapters.pacing). A 429 holds
        the conversation's bucket for its Retry-After, for every replica."""
        conversation = context.activity.conversation
        tenant = (conversation.tenant_id if conversation is not None else None) or self.tenant or "default"
        everyone = self._tenant_slots.get(tenant)
        if everyone is None:
            bucket = Bucket.per_second(f"teams:tenant:{tenant}", self.tenant_rate, TENANT_BURST)
            everyone = self._tenant_slots[tenant] = SharedSlots(self.store, bucket, TENANT_WAIT, block_of(bucket))
        await everyone.take()
        bucket = Bucket.per_second(
            f"teams:conversation:{conversation_id}", CONVERSATION_RATE, CONVERSATION_BURST
        )
        await self._conversation_slots.take(bucket, wait, 1 + ahead)
        try:
            yield
        except HttpOperationError as exc:
            status, retry_after = _status(exc)
            if status == 429:
                self._conversation_slots.forget(bucket.key)
                await hold_after_429(self.store, bucket, retry_after or 1.0)
            raise

    async def _continue(self, stored: Mapping[str, Any], work: Work) -> str:
        """`work` inside the stored conversation; what it raises is raised here."""
        reference = ConversationReference().deserialize(stored["conversation_reference"])
        conversation_id = reference.conversation.id if reference.conversation else ""
        done: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                done["id"] = await work(context, conversation_id)
            except Exception as exc:  # re-raised below, not left to the adapter's error handler
                done["error"] = exc

        await self.cloud.continue_conversation(reference, callback, self.app_id or "")
        return _result(done)

    async def _post_in_channel(self, channel_id: str, work: Work) -> str:
        """A post to a team's channel (a panel's audience), as a new thread in it."""
        reference = ConversationReference(
            channel_id=CHANNEL,
            service_url=self.service_url,
            conversation=ConversationAccount(
                id=channel_id, is_group=True, conversation_type="channel", tenant_id=self.tenant
            ),
            bot=self._bot(),
        )
        stored = {"conversation_reference": reference.serialize()}
        return await _refusing(self._continue(stored, work), (403, 404))

    def _bot(self) -> ChannelAccount:
        return ChannelAccount(id=f"28:{self.app_id or 'reflectbot'}")

    async def _create(self, user_id: str, person_id: str, work: Work) -> str:
        tenant = await identities.teams_tenant_of(self.store, person_id) or self.tenant
        bot = self._bot()
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        done: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                conversation_id = context.activity.conversation.id
                if not isinstance(conversation_id, str) or not conversation_id:
                    raise DeliveryError(NO_ID, permanent=True)
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
                # Not the reference the person's own activities carry: the next one is checked.
                self.remembered.forget(user_id)
                await identities.save_reference(
                    self.store, PLATFORM, user_id, data, now, ignore=references.IGNORED
                )
                logger.info("teams: 1:1 conversation created for %s", person_id)
                done["id"] = await work(context, conversation_id)
            except Exception as exc:
                done["error"] = exc

        try:
            await self.cloud.create_conversation(
                self.app_id or "", callback, parameters, CHANNEL, self.service_url, None
            )
        except HttpOperationError as exc:
            status, _ = _status(exc)
            if 400 <= status < 500 and status not in (401, 408, 429):
                raise _Refused(status) from exc
            raise
        return _result(done)


def _result(done: dict[str, Any]) -> str:
    error = done.get("error")
    if error is not None:
        raise error
    return str(done.get("id", ""))


async def _refusing(sending: Awaitable[str], statuses: tuple[int, ...]) -> str:
    """Teams' refusals of a conversation (the app removed, the chat gone) as `_Refused`."""
    try:
        return await sending
    except HttpOperationError as exc:
        status = _status(exc)[0]
        if status in statuses:
            raise _Refused(status) from exc
        raise


def _is_channel(address: str) -> bool:
    """Teams conversation ids of channels start with "19:"; people are addressed by their
    Entra object id (a GUID)."""
    return address.startswith("19:")
