"""A fake Slack for tests: the Web API the bot calls, and Slack's side of the requests it sends us.

`FakeSlack` is an aiohttp server on 127.0.0.1 with an ephemeral port. It answers the Web API
methods the adapter uses in the shapes Slack documents, records every call (method, parsed form or
JSON body, headers), and can be told to answer a method's next call with a 429 or an error. It
also signs and posts events, clicks, form submissions and slash commands to our server exactly as
Slack does (v0 HMAC over "v0:timestamp:body"), built from the recorded payloads in
tests/fixtures/slack/, and serves a Socket Mode websocket.

With `limits=SlackLimits(...)` it enforces chat.postMessage's rate limits as Slack does: a
short burst then about one message a second per channel, and a number a minute for the whole
workspace; a post over either is answered HTTP 429 with `Retry-After` (whole seconds) and
{"ok": false, "error": "ratelimited"}, and posts nothing. It counts calls, 429s and the messages
posted to each channel.

`SlackServer` runs our side: the store, engine, outbox and Slack adapter behind one aiohttp
application, the shape `reflectbot.server.Server` has.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack"
TEAM = "T0TEAM0001"
BOT_USER = "U0BOT00001"
BOT_ID = "B0BOT00001"
APP_ID = "A0APP00001"
JSON_FIELDS = ("blocks", "view", "files", "attachments")


def payload(name: str) -> dict[str, Any]:
    """A recorded Slack payload from tests/fixtures/slack/."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def sign(secret: str, body: bytes, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes = b""
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    text: str


@dataclass
class SlackLimits:
    """chat.postMessage's limits, as Slack enforces them: per channel a GCRA (`channel_burst` at
    once, then `channel_per_second`), and for the workspace at most `workspace_per_minute` posts
    in any 60 seconds (None: no workspace limit)."""

    channel_burst: int = 3
    channel_per_second: float = 1.0
    workspace_per_minute: int | None = None
    clock: Callable[[], float] = time.monotonic
    _channels: dict[str, float] = field(default_factory=dict)  # channel → theoretical arrival time
    _workspace: deque[float] = field(default_factory=deque)  # when the last minute's posts came

    def refuse(self, channel: str) -> tuple[str, int] | None:
        """(which limit, Retry-After seconds) when a post to `channel` now is over a limit;
        otherwise None, and the post is counted against both."""
        now = self.clock()
        interval = 1.0 / self.channel_per_second
        tat = max(self._channels.get(channel, now), now)
        early = tat - (self.channel_burst - 1) * interval - now
        if early > 0:
            return "channel", max(1, math.ceil(early))
        window = self._workspace
        while window and window[0] <= now - 60.0:
            window.popleft()
        if self.workspace_per_minute is not None and len(window) >= self.workspace_per_minute:
            return "workspace", max(1, math.ceil(window[0] + 60.0 - now))
        self._channels[channel] = tat + interval
        window.append(now)
        return None


@dataclass
class FakeSlack:
    signing_secret: str = "8f742231b10e8888abcd99yyyzzz85a5"
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _faults: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _socket: web.WebSocketResponse | None = None
    _changed: asyncio.Condition | None = None
    # An app installed before it asked for mpim:write: group DMs are refused.
    without_mpim_scope: bool = False
    limits: SlackLimits | None = None
    # What the limits saw: every chat.postMessage call, those answered 429 (by which limit), and
    # the messages posted to each channel.
    post_calls: int = 0
    ratelimited: Counter[str] = field(default_factory=Counter)
    posted: Counter[str] = field(default_factory=Counter)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/socket", self._socket_handler)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/api/{method}", self._api)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()
        self.url = str(self._server.make_url("")).rstrip("/")
        self.api_url = self.url + "/api/"
        self._changed = asyncio.Condition()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        await self._server.close()

    # -- what tests ask of it -------------------------------------------------------------
    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        self._faults.setdefault(method, []).append(
            (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        )

    def answer_next(self, method: str, response: Any, status: int = 200) -> None:
        """Answer the method's next call with this body, whatever its shape (for answers Slack
        does not give, such as {"ok": true} without the channel and ts)."""
        self._faults.setdefault(method, []).append((status, response, {}))

    def fail_next(self, method: str, error: str) -> None:
        self._faults.setdefault(method, []).append((200, {"ok": False, "error": error}, {}))

    async def wait_for(self, check: Callable[[], bool], timeout: float = 10) -> None:
        """Until `check()` holds after some call (for the background drain of a running server)."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), timeout)

    def posts_to(self, channel: str) -> list[Call]:
        return [c for c in self.called("chat.postMessage") if c.body.get("channel") == channel]

    @staticmethod
    def dm_of(user: str) -> str:
        return "D" + user[1:]

    @staticmethod
    def mpim_of(users: list[str]) -> str:
        return "G" + "-".join(sorted(u[1:] for u in users))

    # -- the Web API ----------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        body: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json" and raw:
            body.update(json.loads(raw))
        elif raw:
            body.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for name in JSON_FIELDS:
            if isinstance(body.get(name), str) and body[name][:1] in "[{":
                body[name] = json.loads(body[name])
        call = Call(method, body, dict(request.headers), raw)
        status, headers = 200, dict[str, str]()
        faults = self._faults.get(method)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        refused = None
        if method == "chat.postMessage":
            self.post_calls += 1
            authorized = request.headers.get("Authorization", "").startswith("Bearer ")
            if self.limits is not None and not faults and authorized:
                refused = self.limits.refuse(str(body.get("channel", "")))
        if faults:
            status, call.response, headers = faults.pop(0)
        elif not request.headers.get("Authorization", "").startswith("Bearer "):
            call.response = {"ok": False, "error": "not_authed"}
        elif answer is None:
            call.response = {"ok": False, "error": "unknown_method"}
        elif refused is not None:
            limit, retry_after = refused
            self.ratelimited[limit] += 1
            status, call.response = 429, {"ok": False, "error": "ratelimited"}
            headers = {"Retry-After": str(retry_after)}
        else:
            call.response = answer(body)
            if method == "chat.postMessage" and call.response.get("ok"):
                self.posted[str(body["channel"])] += 1
        await self._record(call)
        return web.json_response(call.response, status=status, headers=headers)

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _auth_test(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://exchange-programme.slack.com/",
            "team": "Exchange programme",
            "user": "reflectbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(body.get("users", "")).split(",") if u]
        if len(users) > 1:
            # A group DM of those users and the bot: the same one for the same users, in any order.
            if self.without_mpim_scope:
                return {"ok": False, "error": "missing_scope", "needed": "mpim:write", "provided": "im:write"}
            if len(users) > 8:
                return {"ok": False, "error": "too_many_users"}
            return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": self.mpim_of(users), "is_mpim": True}}
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": self.dm_of(users[0] if users else "")}}

    def _next_ts(self) -> str:
        return f"{1806400000 + next(self._ts)}.000100"

    def _chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": body.get("text", ""),
            "blocks": body.get("blocks", []),
            "ts": ts,
            "team": TEAM,
        }
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        message = {"text": body.get("text", ""), "blocks": body.get("blocks", [])}
        return {
            "ok": True,
            "channel": body["channel"],
            "ts": body["ts"],
            "text": body.get("text"),
            "message": message,
        }

    def _view(self, body: dict[str, Any]) -> dict[str, Any]:
        view = dict(body.get("view") or {})
        view.update(id="V" + uuid.uuid4().hex[:10].upper(), team_id=TEAM, app_id=APP_ID, bot_id=BOT_ID)
        view.setdefault("hash", f"{int(time.time())}.{uuid.uuid4().hex[:8]}")
        return {"ok": True, "view": view}

    def _views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._view(body)

    def _views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._view(body)

    def _files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files") or []
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _apps_connections_open(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads[request.match_info["file_id"]] = data
        await self._record(
            Call("upload", {"file_id": request.match_info["file_id"]}, dict(request.headers), data)
        )
        return web.Response(text=f"OK - {len(data)}")

    # -- Socket Mode ----------------------------------------------------------------------
    async def _socket_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                self.socket_acks.append(data)
                await self._record(Call("socket-ack", data, {}))
        return ws

    async def socket_send(self, body: dict[str, Any], kind: str = "events_api") -> str:
        """Send a request over the Socket Mode connection; returns its envelope id."""
        assert self._socket is not None, "no Socket Mode connection"
        envelope_id = str(uuid.uuid4())
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "payload": body,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    # -- Slack's requests to our server ---------------------------------------------------
    async def post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        retry: int | None = None,
        secret: str | None = None,
    ) -> Reply:
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(secret or self.signing_secret, body, stamp),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
            return Reply(resp.status, await resp.text())

    async def send_event(self, url: str, body: dict[str, Any], **options: Any) -> Reply:
        return await self.post(url, json.dumps(body).encode(), "application/json", **options)

    async def send_interaction(self, url: str, body: dict[str, Any], **options: Any) -> Reply:
        form = urlencode({"payload": json.dumps(body)}).encode()
        return await self.post(url, form, "application/x-www-form-urlencoded", **options)

    async def send_command(self, url: str, fields: dict[str, Any], **options: Any) -> Reply:
        return await self.post(
            url, urlencode(fields).encode(), "application/x-www-form-urlencoded", **options
        )

    # -- payloads, from the recorded ones -------------------------------------------------
    def message_im(self, user: str, text: str, event_id: str | None = None) -> dict[str, Any]:
        body = payload("event_message_im")
        ts = self._next_ts()
        # Slack escapes & < > in message text.
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body["event"].update(user=user, text=escaped, ts=ts, event_ts=ts, channel=self.dm_of(user))
        body["event"].pop("blocks", None)
        body["event"]["client_msg_id"] = str(uuid.uuid4())
        body["event_id"] = event_id or "Ev" + uuid.uuid4().hex[:10].upper()
        return body

    def home_opened(self, user: str) -> dict[str, Any]:
        body = payload("event_app_home_opened")
        body["event"].update(user=user, channel=self.dm_of(user))
        body["event_id"] = "Ev" + uuid.uuid4().hex[:10].upper()
        return body

    def click(
        self,
        post: Call,
        user: str,
        *,
        value: str | None = None,
        label: str | None = None,
        kind: str = "answer",
    ) -> dict[str, Any]:
        """The block_actions payload of `user` clicking a button (`rb:<kind>:...`) of a message we posted."""
        reply = self._posted(post)
        for block in reply["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element.get("type") != "button" or not element["action_id"].startswith(f"rb:{kind}:"):
                    continue
                if value is not None and element.get("value") != value:
                    continue
                if label is not None and element["text"]["text"] != label:
                    continue
                return self._action_payload(user, reply, block, dict(element, action_ts=self._next_ts()))
        raise AssertionError(f"no {kind} button {value or label!r} in the message")

    def tick_and_send(self, post: Call, user: str, values: list[str]) -> dict[str, Any]:
        """Tick checkboxes (by value) of a message we posted, then press its send button."""
        reply = self._posted(post)
        for block in reply["blocks"]:
            if block["type"] != "actions":
                continue
            boxes = next((e for e in block["elements"] if e["type"] == "checkboxes"), None)
            submit = next((e for e in block["elements"] if e["action_id"].startswith("rb:submit:")), None)
            if boxes is None or submit is None:
                continue
            chosen = [o for o in boxes["options"] if o["value"] in values]
            body = self._action_payload(user, reply, block, dict(submit, action_ts=self._next_ts()))
            body["state"] = {
                "values": {
                    block["block_id"]: {
                        boxes["action_id"]: {"type": "checkboxes", "selected_options": chosen}
                    }
                }
            }
            return body
        raise AssertionError("no checkboxes in the message")

    @staticmethod
    def _posted(post: Call) -> dict[str, Any]:
        # The message as Slack keeps it: the channel and ts it answered with, the blocks we sent.
        return {"channel": post.response["channel"], "ts": post.response["ts"], "blocks": post.body["blocks"]}

    def _action_payload(
        self, user: str, message: dict[str, Any], block: dict[str, Any], action: dict[str, Any]
    ) -> dict[str, Any]:
        body = payload("block_actions_button")
        body["user"]["id"] = user
        body["container"].update(message_ts=message["ts"], channel_id=message["channel"])
        body["channel"]["id"] = message["channel"]
        body["message"].update(ts=message["ts"], blocks=message["blocks"])
        body["trigger_id"] = f"{int(time.time())}.{uuid.uuid4().int % 10**13}.{uuid.uuid4().hex}"
        body["state"] = {"values": {}}
        action = {k: v for k, v in action.items() if k != "style"}
        action.update(block_id=block.get("block_id", "x"), type="button")
        body["actions"] = [action]
        return body

    def submit_form(self, opened: Call, user: str, text: str) -> dict[str, Any]:
        """The view_submission payload of `user` saving the form we opened with views.open."""
        view = opened.body["view"]
        body = payload("view_submission")
        body["user"]["id"] = user
        body["view"].update(
            id="V" + uuid.uuid4().hex[:10].upper(),
            blocks=view["blocks"],
            private_metadata=view["private_metadata"],
            callback_id=view["callback_id"],
            hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        )
        input_block = next(b for b in view["blocks"] if b["type"] == "input")
        body["view"]["state"] = {
            "values": {
                input_block["block_id"]: {
                    input_block["element"]["action_id"]: {"type": "plain_text_input", "value": text}
                }
            }
        }
        return body

    def command(self, user: str, text: str, channel: str | None = None) -> dict[str, Any]:
        fields = payload("slash_command")
        fields.update(
            user_id=user,
            text=text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            channel_id=channel or self.dm_of(user),
            channel_name="directmessage" if channel is None else "general",
            trigger_id=f"{int(time.time())}.{uuid.uuid4().int % 10**13}.{uuid.uuid4().hex}",
        )
        return fields


@dataclass
class Clock:
    """The engine's clock in tests: set it, it stays."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def all_blocks(fake: FakeSlack) -> list[tuple[str, list[dict[str, Any]] | dict[str, Any]]]:
    """Every message and view the bot sent, as Slack received it."""
    sent: list[tuple[str, list[dict[str, Any]] | dict[str, Any]]] = []
    for call in fake.calls:
        if call.method in ("chat.postMessage", "chat.update") and "blocks" in call.body:
            sent.append((call.method, call.body["blocks"]))
        if call.method in ("views.publish", "views.open", "views.update"):
            sent.append((call.method, call.body["view"]))
    return sent


def slack_settings(database_url: str, fake: FakeSlack, **more: Any) -> Any:
    """Settings for our server talking to this fake Slack (more= overrides any of them)."""
    from reflectbot.settings import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token="xoxb-17-test-token",
        slack_api_url=fake.api_url,
        # Pacing is tested on its own (test_pacing_buckets, test_shared_pacing); elsewhere it
        # would only make tests slow.
        **{
            "slack_signing_secret": fake.signing_secret,
            "slack_messages_per_second": 1000.0,
            "slack_workspace_messages_per_minute": 600_000.0,
            **more,
        },
    )


class SlackServer:
    """Our side as `reflectbot serve` runs it with Slack configured (`reflectbot.server.build_server`:
    store, engine, outbox, sweeps and the Slack adapter behind one aiohttp application), served on
    127.0.0.1 with an ephemeral port, its clock settable by the test."""

    def __init__(self, settings: Any, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self._started = False

    async def open(self) -> str:
        """Build the server (which migrates) and serve it; the URL of /slack/events."""
        from reflectbot.server import build_server

        self.server = await build_server(self.settings, clock=self.clock)
        self._http = TestServer(self.server.app, host="127.0.0.1", port=0)
        await self._http.start_server()
        return str(self._http.make_url("/slack/events"))

    @property
    def store(self) -> Any:
        return self.server.store

    @property
    def engine(self) -> Any:
        return self.server.engine

    @property
    def deliverer(self) -> Any:
        return self.server.deliverer

    @property
    def adapters(self) -> dict[str, Any]:
        return dict(self.server.adapters)

    async def tick(self, at: datetime) -> Any:
        """Every sweep once as of `at`, then drain the outbox: `reflectbot tick --at`."""
        return await self.server.tick(at)

    async def drain(self) -> None:
        """What the running server's loop does when the adapter calls on_stored(): take the
        replies waiting in the inbox, then send what is in the outbox."""
        await self.server.runner.take_and_send()

    async def start(self) -> None:
        """The adapters' start, the sweeps and the drain loop, as `reflectbot serve` runs them."""
        await self.server.start()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.server.stop()
        await self._http.close()
        await self.server.close()


def text_of(call: Call) -> str:
    """What a person reads in a message we posted (its text, unescaped)."""
    return str(call.body.get("text", "")).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class SlackWorld:
    """The fake Slack and our server, from a person's side of the screen."""

    fake: FakeSlack
    server: SlackServer
    url: str

    @property
    def clock(self) -> Clock:
        return self.server.clock

    # Each request is answered once the reply is in the inbox; the engine then takes it, as the
    # server's loop does at once (sending what follows is left to `server.drain()`).
    async def dm(self, user: str, text: str, event_id: str | None = None, **options: Any) -> Reply:
        reply = await self.fake.send_event(self.url, self.fake.message_im(user, text, event_id), **options)
        assert reply.status == 200, reply
        await self.take()
        return reply

    async def interact(self, body: dict[str, Any]) -> Reply:
        reply = await self.fake.send_interaction(self.url, body)
        assert reply.status == 200, reply
        await self.take()
        return reply

    async def command(self, user: str, text: str, channel: str | None = None) -> Reply:
        reply = await self.fake.send_command(self.url, self.fake.command(user, text, channel))
        assert reply.status == 200, reply
        await self.take()
        return reply

    async def take(self) -> None:
        await self.server.engine.take_waiting(self.clock())

    def posts(self, user: str) -> list[Call]:
        return self.fake.posts_to(self.fake.dm_of(user))

    def questions(self, user: str) -> list[Call]:
        return [c for c in self.posts(user) if any(b["type"] == "actions" for b in c.body.get("blocks", []))]

    def last_question(self, user: str, fragment: str = "") -> Call:
        found = [c for c in self.questions(user) if fragment in text_of(c)]
        assert found, f"no question containing {fragment!r} was posted to {user}"
        return found[-1]


def block_kit_problems(fake: FakeSlack) -> list[str]:
    """Every message and view the bot sent, parsed back through slack-sdk's Block Kit models:
    each must validate (limits, required fields) and survive the round trip unchanged (no key
    the models do not know)."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    problems: list[str] = []
    for method, sent in all_blocks(fake):
        try:
            if isinstance(sent, dict):
                view = View(**sent)
                view.validate_json()
                if view.to_dict() != sent:
                    problems.append(f"{method}: view changed in the round trip")
                continue
            if len(sent) > 50:
                problems.append(f"{method}: {len(sent)} blocks")
            for raw in sent:
                block = Block.parse(raw)
                if block is None:
                    problems.append(f"{method}: unknown block {raw.get('type')}")
                    continue
                block.validate_json()
                if block.to_dict() != raw:
                    problems.append(f"{method}: {raw.get('type')} block changed in the round trip")
        except (SlackObjectFormationError, TypeError, KeyError) as exc:
            problems.append(f"{method}: {exc}")
    return problems


@asynccontextmanager
async def open_slack_world(database_url: str, **settings: Any) -> AsyncIterator[SlackWorld]:
    """The fake Slack and our server on it, the clock at the start of 2027 (settings= as for
    `slack_settings`); both stopped afterwards."""
    fake = FakeSlack()
    await fake.start()
    server = SlackServer(slack_settings(database_url, fake, **settings), Clock(datetime(2027, 1, 1, tzinfo=UTC)))
    url = await server.open()
    try:
        yield SlackWorld(fake, server, url)
    finally:
        await server.stop()
        await fake.stop()


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST these exact bytes (whatever they are) and return the HTTP status."""
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status
