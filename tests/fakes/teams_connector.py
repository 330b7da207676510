"""A fake Bot Framework connector (the Teams side of a bot's outbound calls).

An aiohttp server on 127.0.0.1 with an ephemeral port that answers the connector REST calls
botbuilder makes, in the shapes the real service uses, and records every request:

- `POST /v3/conversations` (create_conversation) → `{"id": ...}`
- `POST /v3/conversations/{id}/activities` and `.../activities/{replyToId}` → `{"id": ...}`
- `PUT /v3/conversations/{id}/activities/{activityId}` (update_activity) → `{"id": ...}`

With `limits`, it enforces Teams' per-conversation limits for a bot's messages (at most 7 in any
second, 8 in any 2 seconds, 60 in any 30 seconds) and, if given, a number of requests in any
second for the whole tenant, answering 429 with `Retry-After` over any of them.

It can be told to answer the next call(s) with an error: `throttle_next()` (429 with
`Retry-After`) or `refuse_create()` (403 to create_conversation, as Teams answers when the app is
not installed for the user).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    answer: Any = None  # what the fake answered

    @property
    def conversation_id(self) -> str | None:
        parts = self.path.split("/")
        return parts[3] if len(parts) > 3 and parts[2] == "conversations" else None


@dataclass(frozen=True)
class TeamsLimits:
    """Sliding windows, (messages, seconds): what one conversation may take, and the tenant."""

    conversation: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0))
    tenant_per_second: int | None = None


def _over(times: list[float], windows: tuple[tuple[int, float], ...], now: float) -> bool:
    return any(sum(1 for t in times if now - t < seconds) >= most for most, seconds in windows)


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    route: str | None = None  # "create" | "send" | "update" | None for any
    raw: str | None = None  # answer with this text (as application/json) instead of `body`


class FakeTeamsConnector:
    def __init__(self, limits: TeamsLimits | None = None) -> None:
        self.limits = limits
        self._accepted: dict[str, list[float]] = {}  # a conversation's accepted sends (monotonic)
        self._tenant: list[float] = []
        self.throttled = 0  # sends answered 429 for going over `limits`
        self.requests: list[Recorded] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._conversations = itertools.count(1)
        self._refuse_create: str | None = None
        self.conversations: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def service_url(self) -> str:
        """What activities carry as `serviceUrl` (with the trailing slash Teams sends)."""
        return self.url + "/"

    async def wait_for(self, check: Callable[[], bool], within: float = 10.0) -> None:
        """Until `check()` holds (for what a running server sends in the background)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not check():
            if loop.time() > deadline:
                raise AssertionError(f"the fake connector did not see it within {within} s")
            await asyncio.sleep(0.02)

    # -- scripting ------------------------------------------------------------------------
    def throttle_next(self, retry_after: int = 1, route: str | None = "send") -> None:
        self._failures.append(
            _Failure(
                429,
                {"error": {"code": "TooManyRequests", "message": "Too many requests"}},
                {"Retry-After": str(retry_after)},
                route,
            )
        )

    def fail_next(self, status: int, route: str | None = None) -> None:
        self._failures.append(
            _Failure(status, {"error": {"code": "ServiceError", "message": f"status {status}"}}, {}, route)
        )

    def answer_next(self, status: int, body: Any, route: str | None = "send") -> None:
        """Answer the next call with this status and body (a str is sent as it is), whatever
        shape it has: for answers the real service does not give."""
        raw = body if isinstance(body, str) else json.dumps(body)
        self._failures.append(_Failure(status, {}, {}, route, raw))

    def refuse_create(self, message: str = "Bot is not installed in user's personal scope") -> None:
        """Refuse every create_conversation from now on, as Teams does for users without the app."""
        self._refuse_create = message

    def allow_create(self) -> None:
        self._refuse_create = None

    # -- what was received ----------------------------------------------------------------
    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities posted (not updates) that were accepted, optionally in one conversation."""
        return [
            r.body
            for r in self.requests
            if r.method == "POST"
            and "/activities" in r.path
            and r.status < 300
            and (conversation_id is None or r.conversation_id == conversation_id)
        ]

    def updates(self, conversation_id: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == "PUT" and (conversation_id is None or r.conversation_id == conversation_id)
        ]

    def creates(self, member: str | None = None) -> list[Recorded]:
        """create_conversation calls, optionally only those for this member id."""
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path == "/v3/conversations"
            and (member is None or any(m.get("id") == member for m in r.body.get("members") or []))
        ]

    def conversations_with(self, member: str) -> list[str]:
        """Ids of the conversations created with this member."""
        return [
            cid
            for cid, body in self.conversations.items()
            if any(m.get("id") == member for m in body.get("members") or [])
        ]

    def cards(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [card for activity in self.activities(conversation_id) for card in adaptive_cards(activity)]

    # -- handlers -------------------------------------------------------------------------
    def _failure_for(self, route: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.route in (None, route):
                return self._failures.pop(index)
        return None

    async def _record(self, request: web.Request, status: int, answer: Any = None) -> Any:
        body = await request.json() if request.can_read_body else None
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), body, status, answer)
        )
        return body

    def _error(self, failure: _Failure) -> web.Response:
        if failure.raw is not None:
            return web.Response(text=failure.raw, status=failure.status, content_type="application/json")
        return web.json_response(failure.body, status=failure.status, headers=failure.headers)

    async def _create(self, request: web.Request) -> web.Response:
        failure = self._failure_for("create")
        if failure is None and self._refuse_create is not None:
            failure = _Failure(403, {"error": {"code": "Forbidden", "message": self._refuse_create}})
        body = await self._record(request, failure.status if failure else 201)
        if failure is not None:
            return self._error(failure)
        conversation_id = f"a:fake-personal-{next(self._conversations)}"
        self.conversations[conversation_id] = body
        return web.json_response({"id": conversation_id}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        failure = self._failure_for("send") or self._over_limits(request.match_info["conversation"])
        if failure is not None:
            await self._record(request, failure.status, failure.body)
            return self._error(failure)
        answer = {"id": f"1{next(self._ids):012d}"}
        await self._record(request, 201, answer)
        return web.json_response(answer, status=201)

    def _over_limits(self, conversation_id: str) -> _Failure | None:
        """None when the send fits Teams' limits (and is then counted); else a 429."""
        if self.limits is None:
            return None
        now = asyncio.get_running_loop().time()
        times = self._accepted.setdefault(conversation_id, [])
        tenant = self.limits.tenant_per_second
        if _over(times, self.limits.conversation, now) or (
            tenant is not None and _over(self._tenant, ((tenant, 1.0),), now)
        ):
            self.throttled += 1
            return _Failure(
                429,
                {"error": {"code": "TooManyRequests", "message": "Too many requests"}},
                {"Retry-After": "1"},
            )
        times.append(now)
        self._tenant.append(now)
        return None

    def activity_ids(self, conversation_id: str | None = None) -> list[str]:
        """The ids given to the accepted activities, in the order of `activities()`."""
        return [
            r.answer["id"]
            for r in self.requests
            if r.method == "POST"
            and "/activities" in r.path
            and r.status < 300
            and (conversation_id is None or r.conversation_id == conversation_id)
        ]

    async def _update(self, request: web.Request) -> web.Response:
        failure = self._failure_for("update")
        await self._record(request, failure.status if failure else 200)
        if failure is not None:
            return self._error(failure)
        return web.json_response({"id": request.match_info["activity"]}, status=200)

    async def _unknown(self, request: web.Request) -> web.Response:
        await self._record(request, 404)
        return web.json_response({"error": {"code": "NotFound", "message": request.path}}, status=404)


def adaptive_cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


# -- the Teams client side: activities as Teams posts them to /api/messages -------------------
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "teams"
TANVIR_AAD = "1a7c9e3b-2f4d-4a6b-8c0e-5d3f7b9a1c24"
SOKHA_AAD = "8d2f4a61-5c3e-4b7d-9f10-2e6a8c4b0d57"
FARHANA_AAD = "3b9e1c52-0d4a-4e8f-b7a1-6c2d9f0e1a23"
TENANT = "6f1c2e0a-7b1d-4c55-9a0e-3d2b8f4e9a10"


def recorded(name: str) -> dict[str, Any]:
    """A recorded activity from tests/fixtures/teams/ (`name` without .json)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


class TeamsUser:
    """One person's Teams client: builds activities from the recorded ones, for their own 1:1
    conversation, and posts them to the bot's /api/messages."""

    _ids = itertools.count(1)

    def __init__(self, endpoint: str, service_url: str, aad_object_id: str, name: str = "") -> None:
        self.endpoint = endpoint
        self.service_url = service_url
        self.aad_object_id = aad_object_id
        self.name = name
        self.conversation_id = f"a:personal-{aad_object_id}"

    def activity(self, name: str, **overrides: Any) -> dict[str, Any]:
        activity = recorded(name)
        activity["serviceUrl"] = self.service_url
        activity["id"] = f"{activity['id']}-{next(self._ids)}"
        activity["from"] = {
            "id": f"29:user-{self.aad_object_id}",
            "name": self.name,
            "aadObjectId": self.aad_object_id,
        }
        activity["conversation"] = {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": self.conversation_id,
        }
        activity.update(overrides)
        return activity

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.endpoint, json=activity, headers=headers or {}) as response:
                await response.read()
                return response.status

    async def install(self) -> int:
        return await self.post(self.activity("conversation_update_install"))

    async def say(self, text: str, **overrides: Any) -> int:
        return await self.post(self.activity("message_text", text=text, **overrides))

    async def submit(self, value: dict[str, Any], reply_to: str | None = None) -> int:
        overrides: dict[str, Any] = {"value": value}
        if reply_to is not None:
            overrides["replyToId"] = reply_to
        return await self.post(self.activity("submit_choice", **overrides))
