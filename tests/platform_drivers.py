"""One person (Tanvir) on each platform, through its real stack, for the platform contracts
(tests/test_platform_contracts.py):

- the terminal: the terminal adapter (`adapters.console.chat.ConsoleChat`) printing to a stream;
- Slack: signed requests to our server (`reflectbot.server.build_server`) and a fake Slack Web API;
- Teams: activities posted to our server in development mode (TEAMS_ENABLED=true) and a fake Bot
  Framework connector.

What a person does (`type`, `click`, `fill`) returns once the platform has its answer; nothing
follows until `work()`, which is what the server's work loop does (take what waits, send what it
wrote), so a contract can look at what was kept before anything was done with it.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from adapters.console.chat import ConsoleChat
from adapters.console.sender import ConsoleSender
from adapters.console.translate import to_incoming
from bot.engine import Engine
from bot.messages import Delivery, Incoming, Outgoing
from bot.plan import plan_for
from bot.ports import DeliveryError
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Person
from tests.conftest import PROGRAMME
from tests.databases import fresh_database
from tests.fakes.slack_api import (
    Call,
    Clock,
    FakeSlack,
    SlackServer,
    SlackWorld,
    block_kit_problems,
    slack_settings,
    text_of,
)
from tests.fakes.teams_connector import TANVIR_AAD, TeamsUser, adaptive_cards
from tests.teams_world import World, _actions, assert_valid_card, open_teams_world

PERSON = "tanvir"
TANVIR_SLACK = "U0TANVIR01"
STRANGER_SLACK = "U0STRANGER"
STRANGER_AAD = "0f0f0f0f-1111-4222-8333-444455556666"


class Driver(Protocol):
    person_id: str
    store: Store
    # Whether the platform can change the message that asked a question to show its answer (a
    # fact about the platform, not what the adapter claims to support).
    shows_answers: bool

    async def start(self, flow: str) -> None:
        """The person's `flow` opens now, and what it says first reaches them."""

    async def type(self, text: str, event_id: str | None = None) -> None: ...
    async def command(self, text: str) -> None: ...
    async def retry(self) -> None:
        """The platform sends what the person last typed again."""

    async def click(self, label: str) -> None:
        """The choice `label` of the last question, the platform's way (a button)."""

    async def fill(self, text: str) -> None:
        """A written answer to the last question through the platform's form."""

    async def stranger_types(self, text: str) -> None: ...
    async def work(self) -> None: ...
    def later(self, seconds: float) -> None: ...
    def throttle_next_send(self, retry_after: int) -> None: ...
    def received(self) -> list[str]:
        """What reached the person's chat, one text per message, in order."""

    def stranger_received(self) -> list[str]: ...
    def shown(self) -> list[str]:
        """What the messages changed to show a recorded answer now show."""

    def exported(self) -> dict[str, Any] | None:
        """The person's data as it reached them."""


async def due(store: Store, person_id: str, flow: str) -> Any:
    async with store.reading() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return next(p for p in await plan_for(session, person) if p.flow == flow)


# -- the terminal -------------------------------------------------------------------------------
class Printed(io.StringIO):
    """What one terminal printed (the sender heads each message with its recipient and ends it
    with a blank line), one entry per message for a given person."""

    def messages(self, person_id: str) -> list[str]:
        parts = re.split(r"(?m)^\[to ([^\]]+)\]\n", self.getvalue())
        return [
            text.strip("\n") for to, text in zip(parts[1::2], parts[2::2], strict=True) if to == person_id
        ]


class Throttled:
    """The terminal never answers 429: for the contract that a throttled send is retried, this
    stands behind the adapter port in front of the terminal's sender and refuses its next send
    the way a platform does (a DeliveryError with Retry-After)."""

    def __init__(self, inner: ConsoleSender) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.supports = inner.supports
        self.retry_after: int | None = None

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        if self.retry_after is not None:
            wait, self.retry_after = self.retry_after, None
            raise DeliveryError("throttled (429)", retry_after=wait)
        return await self.inner.send(delivery, message)


class ConsoleDriver:
    shows_answers = False

    def __init__(self, store: Store, printed: Printed, clock: Clock) -> None:
        self.store, self.printed, self.clock = store, printed, clock
        self.person_id = PERSON
        engine = Engine(store)
        self.sender = Throttled(ConsoleSender(printed, show_recipient=True, store=store))
        self.chat = ConsoleChat(engine, PERSON, self.sender, clock)
        self.stranger = ConsoleChat(engine, "nobody", self.sender, clock)
        self._last: Incoming | None = None

    async def start(self, flow: str) -> None:
        planned = await due(self.store, PERSON, flow)
        self.clock.now = planned.due_at
        await self.chat.engine.start(PERSON, planned, planned.due_at)
        await self.chat.deliverer.drain(self.clock.now)

    async def type(self, text: str, event_id: str | None = None) -> None:
        incoming = to_incoming(PERSON, text)
        self._last = replace(incoming, event_id=event_id) if event_id else incoming
        await self.chat.receive(self._last)

    command = type

    async def retry(self) -> None:
        # A terminal never sends a line twice; the same Incoming handed to the adapter again is
        # what a platform's retry is.
        assert self._last is not None
        await self.chat.receive(self._last)

    async def click(self, label: str) -> None:
        # The terminal has no buttons: the person types the number printed before the choice.
        question = next(m for m in reversed(self.received()) if m.startswith("── "))
        number = next(
            line.split(".")[0].strip() for line in question.splitlines() if line.endswith(f". {label}")
        )
        await self.type(number)

    async def fill(self, text: str) -> None:
        await self.type(text)  # no form in a terminal: a written answer is typed

    async def stranger_types(self, text: str) -> None:
        await self.stranger.receive(to_incoming("nobody", text))

    async def work(self) -> None:
        await self.chat.work()

    def later(self, seconds: float) -> None:
        self.clock.now += timedelta(seconds=seconds)

    def throttle_next_send(self, retry_after: int) -> None:
        self.sender.retry_after = retry_after

    def received(self) -> list[str]:
        return self.printed.messages(PERSON)

    def stranger_received(self) -> list[str]:
        return self.printed.messages("nobody")

    def shown(self) -> list[str]:
        return []  # a terminal prints each message once and never changes it

    def exported(self) -> dict[str, Any] | None:
        for message in self.received():
            intro, _, rest = message.partition("\n")
            if intro.startswith("Everything reflectbot keeps about you"):
                return dict(json.loads(rest))
        return None


# -- Slack --------------------------------------------------------------------------------------
def _shown_text(call: Call) -> str:
    blocks = call.body.get("blocks") or []
    sections = "\n".join(
        b["text"]["text"] for b in blocks if b.get("type") in ("section", "context") and "text" in b
    )
    return html.unescape(text_of(call) + "\n" + sections)


class SlackDriver:
    shows_answers = True

    def __init__(self, world: SlackWorld) -> None:
        self.world, self.fake = world, world.fake
        self.person_id = PERSON
        self.store = world.server.store
        self._last: dict[str, Any] | None = None

    async def start(self, flow: str) -> None:
        planned = await due(self.store, PERSON, flow)
        self.world.clock.now = planned.due_at
        await self.world.server.engine.start(PERSON, planned, planned.due_at)
        await self.work()

    async def type(self, text: str, event_id: str | None = None) -> None:
        self._last = self.fake.message_im(TANVIR_SLACK, text, event_id)
        assert (await self.fake.send_event(self.world.url, self._last)).status == 200

    async def command(self, text: str) -> None:
        """Slack's own way to give a command: /reflect."""
        body = self.fake.command(TANVIR_SLACK, text)
        assert (await self.fake.send_command(self.world.url, body)).status == 200

    async def retry(self) -> None:
        assert self._last is not None
        assert (await self.fake.send_event(self.world.url, self._last, retry=1)).status == 200

    async def click(self, label: str) -> None:
        click = self.fake.click(self.world.last_question(TANVIR_SLACK), TANVIR_SLACK, label=label)
        assert (await self.fake.send_interaction(self.world.url, click)).status == 200

    async def fill(self, text: str) -> None:
        question = self.world.last_question(TANVIR_SLACK)
        opens = len(self.fake.called("views.open"))
        click = self.fake.click(question, TANVIR_SLACK, kind="form")
        assert (await self.fake.send_interaction(self.world.url, click)).status == 200
        assert len(self.fake.called("views.open")) == opens + 1  # the form opened at once
        form = self.fake.submit_form(self.fake.called("views.open")[-1], TANVIR_SLACK, text)
        assert (await self.fake.send_interaction(self.world.url, form)).status == 200

    async def stranger_types(self, text: str) -> None:
        event = self.fake.message_im(STRANGER_SLACK, text)
        assert (await self.fake.send_event(self.world.url, event)).status == 200

    async def work(self) -> None:
        await self.world.server.drain()

    def later(self, seconds: float) -> None:
        self.world.clock.now += timedelta(seconds=seconds)

    def throttle_next_send(self, retry_after: int) -> None:
        self.fake.rate_limit_next("chat.postMessage", retry_after=retry_after)

    def _delivered(self, user: str) -> list[str]:
        return [_shown_text(c) for c in self.world.posts(user) if c.response.get("ok")]

    def received(self) -> list[str]:
        return self._delivered(TANVIR_SLACK)

    def stranger_received(self) -> list[str]:
        return self._delivered(STRANGER_SLACK)

    def shown(self) -> list[str]:
        dm = self.fake.dm_of(TANVIR_SLACK)
        return [_shown_text(c) for c in self.fake.called("chat.update") if c.body.get("channel") == dm]

    def exported(self) -> dict[str, Any] | None:
        dm = self.fake.dm_of(TANVIR_SLACK)
        for call in self.fake.called("files.completeUploadExternal"):
            if call.body.get("channel_id") == dm:
                return dict(json.loads(self.fake.uploads[call.body["files"][0]["id"]]))
        return None


# -- Teams --------------------------------------------------------------------------------------
def _activity_text(activity: dict[str, Any]) -> str:
    cards = adaptive_cards(activity)
    if cards:
        return json.dumps(cards[0], ensure_ascii=False)
    return html.unescape(activity.get("text") or "")


class TeamsDriver:
    shows_answers = True

    def __init__(self, world: World) -> None:
        self.world, self.connector = world, world.connector
        self.person_id = PERSON
        self.store = world.server.store
        self.user = world.user(TANVIR_AAD, "Tanvir Hossain")
        self.stranger = world.user(STRANGER_AAD, "Someone Else")
        self._last: dict[str, Any] | None = None

    async def start(self, flow: str) -> None:
        assert await self.user.install() == 201
        planned = await due(self.store, PERSON, flow)
        self.world.now = planned.due_at
        await self.world.server.engine.start(PERSON, planned, planned.due_at)
        await self.work()

    async def type(self, text: str, event_id: str | None = None) -> None:
        self._last = self.user.activity("message_text", text=text, **({"id": event_id} if event_id else {}))
        assert await self.user.post(self._last) == 201

    command = type  # Teams has no slash commands: a command is typed

    async def retry(self) -> None:
        assert self._last is not None
        assert await self.user.post(self._last) == 201

    def _last_card(self) -> dict[str, Any]:
        return self.connector.cards(self.user.conversation_id)[-1]

    async def click(self, label: str) -> None:
        action = next(a for a in _actions(self._last_card()) if a["title"] == label)
        assert await self.user.submit(action["data"]) == 201

    async def fill(self, text: str) -> None:
        action = next(a for a in _actions(self._last_card()) if "question_id" in a["data"])
        assert await self.user.submit({**action["data"], "answer": text}) == 201

    async def stranger_types(self, text: str) -> None:
        assert await self.stranger.say(text) == 201

    async def work(self) -> None:
        await self.world.drain()

    def later(self, seconds: float) -> None:
        self.world.now += timedelta(seconds=seconds)

    def throttle_next_send(self, retry_after: int) -> None:
        self.connector.throttle_next(retry_after=retry_after)

    def _delivered(self, user: TeamsUser) -> list[str]:
        return [_activity_text(a) for a in self.connector.activities(user.conversation_id)]

    def received(self) -> list[str]:
        return self._delivered(self.user)

    def stranger_received(self) -> list[str]:
        return self._delivered(self.stranger)

    def shown(self) -> list[str]:
        return [
            _activity_text(u.body)
            for u in self.connector.updates(self.user.conversation_id)
            if u.status < 300
        ]

    def exported(self) -> dict[str, Any] | None:
        parts = [
            a["text"].split("<pre>", 1)[1].rsplit("</pre>", 1)[0]
            for a in self.connector.activities(self.user.conversation_id)
            if "<pre>" in (a.get("text") or "")
        ]
        return dict(json.loads(html.unescape("".join(parts)))) if parts else None


# -- opening one ---------------------------------------------------------------------------------
PLATFORMS = ["terminal", "slack", "teams"]


@asynccontextmanager
async def open_driver(platform: str, tmp_path: Path) -> AsyncIterator[Driver]:
    with fresh_database(tmp_path) as database_url:
        async with _open_driver(platform, tmp_path, database_url) as driver:
            yield driver


@asynccontextmanager
async def _open_driver(platform: str, tmp_path: Path, database_url: str) -> AsyncIterator[Driver]:
    if platform == "terminal":
        store = Store(database_url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        try:
            yield ConsoleDriver(store, Printed(), Clock(datetime(2027, 1, 1, tzinfo=UTC)))
        finally:
            await store.close()
    elif platform == "slack":
        fake = FakeSlack()
        await fake.start()
        server = SlackServer(slack_settings(database_url, fake), Clock(datetime(2027, 1, 1, tzinfo=UTC)))
        url = await server.open()
        # Tanvir, with a Slack id instead of his Teams one.
        moved = tmp_path / "programme.yaml"
        moved.write_text(
            PROGRAMME.read_text(encoding="utf-8").replace(f"teams: {TANVIR_AAD}", f"slack: {TANVIR_SLACK}"),
            encoding="utf-8",
        )
        await import_programme(server.store, moved)
        try:
            yield SlackDriver(SlackWorld(fake, server, url))
        finally:
            await server.stop()
            await fake.stop()
        assert block_kit_problems(fake) == []
    else:
        async with open_teams_world(tmp_path, PROGRAMME) as world:
            yield TeamsDriver(world)
            for card in world.every_card():
                assert_valid_card(card)
