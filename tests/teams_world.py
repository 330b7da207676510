"""The Teams side of the tests: our server with the Teams adapter, served on 127.0.0.1, a fake Bot
Framework connector as the other end, and helpers to read what reached a person's chat."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from aiohttp import web
from sqlmodel import select

from bot.plan import plan_for
from reflectbot.server import Server, build_server
from reflectbot.settings import Settings
from storage.importer import import_programme
from storage.models import Answer, ChatIdentity, Person, Question
from tests.databases import fresh_database
from tests.fakes.teams_connector import FakeTeamsConnector, TeamsUser, adaptive_cards

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
CARD_SCHEMA = json.loads((SCHEMAS / "adaptive-card.schema.1.5.json").read_text())


def assert_valid_card(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(p) for p in card["version"].split(".")) <= (1, 5)
    jsonschema.validate(card, CARD_SCHEMA)


@dataclass
class World:
    server: Server
    connector: FakeTeamsConnector
    endpoint: str
    now: datetime

    def user(self, aad_object_id: str, name: str = "") -> TeamsUser:
        return TeamsUser(self.endpoint, self.connector.service_url, aad_object_id, name)

    async def tick(self, at: datetime) -> None:
        self.now = at
        await self.server.tick(at)

    async def drain(self) -> None:
        """What the running server's work loop does when the adapter calls on_stored(): take
        the replies waiting in the inbox, then send what is in the outbox."""
        await self.server.runner.take_and_send()

    async def due(self, person_id: str, flow: str) -> datetime:
        async with self.server.store.session() as session:
            person = await session.get(Person, person_id)
            assert person is not None
            return next(p.due_at for p in await plan_for(session, person) if p.flow == flow)

    async def reference(self, person_id: str) -> dict[str, Any] | None:
        async with self.server.store.session() as session:
            identity = (
                await session.exec(
                    select(ChatIdentity).where(
                        ChatIdentity.person_id == person_id, ChatIdentity.platform == "teams"
                    )
                )
            ).one()
            return identity.reference

    async def person(self, person_id: str) -> Person:
        async with self.server.store.session() as session:
            person = await session.get(Person, person_id)
            assert person is not None
            return person

    def every_card(self) -> list[dict[str, Any]]:
        """Every card the bot sent or updated, as the connector received it."""
        sent = [c for r in self.connector.requests if r.body for c in adaptive_cards(r.body)]
        return sent


@asynccontextmanager
async def open_teams_world(tmp_path: Path, programme: Path, **settings: Any) -> AsyncIterator[World]:
    """`settings` adds to the server's settings (e.g. web_base_url)."""
    with fresh_database(tmp_path) as database_url:
        async with _open_teams_world(database_url, programme, **settings) as world:
            yield world


@asynccontextmanager
async def _open_teams_world(database_url: str, programme: Path, **extra: Any) -> AsyncIterator[World]:
    connector = FakeTeamsConnector()
    await connector.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        teams_enabled=True,
        teams_service_url=connector.service_url,
        **extra,
    )
    holder: dict[str, World] = {}
    server = await build_server(settings, clock=lambda: holder["world"].now, console=io.StringIO())
    await import_programme(server.store, programme)
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    world = World(
        server,
        connector,
        f"http://127.0.0.1:{port}/api/messages",
        datetime.fromisoformat("2027-01-18T03:00:00+00:00"),
    )
    holder["world"] = world
    try:
        yield world
    finally:
        await runner.cleanup()
        await server.close()
        await connector.stop()


async def answers(world: World, person_id: str) -> dict[str, Answer]:
    """Each stored answer by the key of the question it answers."""
    async with world.server.store.session() as session:
        rows = await session.exec(
            select(Question, Answer)
            .join(Answer, Answer.question_id == Question.id)  # type: ignore[arg-type]
            .where(Question.person_id == person_id)
        )
        return {q.key: a for q, a in rows.all()}


def question_id_of(card: dict[str, Any]) -> int:
    """The question id the card's submit actions carry."""
    found = json.dumps(card)
    data = [a["data"] for a in _actions(card) if "question_id" in a.get("data", {})]
    assert data, f"no answer action in {found}"
    return int(data[0]["question_id"])


def _actions(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Submit":
            found.append(node)
        for value in node.values():
            found.extend(_actions(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_actions(item))
    return found


class TeamsChat:
    """A transcript over Teams: what one person writes or clicks, and what reaches their chat."""

    def __init__(self, world: World, user: TeamsUser) -> None:
        self.world, self.user = world, user
        self.read = 0

    async def say(self, text: str) -> None:
        assert await self.user.say(text) == 201
        await self.world.drain()

    async def click(self, card: dict[str, Any], label: str) -> None:
        """Click the card's answer button with this label."""
        action = next(a for a in _actions(card) if a["title"] == label)
        assert await self.user.submit(action["data"]) == 201
        await self.world.drain()

    async def fill(self, card: dict[str, Any], answer: str) -> None:
        """Write into the card's text field and press its submit button."""
        action = next(a for a in _actions(card) if "question_id" in a["data"])
        assert await self.user.submit({**action["data"], "answer": answer}) == 201
        await self.world.drain()

    def unread(self) -> list[dict[str, Any]]:
        activities = self.world.connector.activities(self.user.conversation_id)
        new, self.read = activities[self.read :], len(activities)
        return new

    def expect(self, *fragments: str) -> dict[str, Any]:
        """The next message in the chat contains every fragment; returns its card, if any."""
        activities = self.world.connector.activities(self.user.conversation_id)
        assert self.read < len(activities), f"expected a message containing {fragments}, got none"
        activity = activities[self.read]
        self.read += 1
        cards = adaptive_cards(activity)
        shown = json.dumps(cards[0], ensure_ascii=False) if cards else activity.get("text", "")
        for fragment in fragments:
            assert fragment in shown, f"expected {fragment!r} in:\n{shown}"
        return cards[0] if cards else activity

    def expect_nothing(self) -> None:
        rest = self.unread()
        assert not rest, f"expected nothing more, got {rest}"
