"""The same conversation scenarios over every adapter: the terminal, Slack (through signed requests
to our server and a fake Slack Web API) and Teams (activities posted to /api/messages and a fake
Bot Framework connector).

A scenario is a function of a driver (start, say, command, choose, later, expect...). Tanvir
(English) is the person in every run: on Slack he is given a Slack id, on Teams he keeps his
own, and on the terminal neither platform is configured.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from adapters.console.chat import ConsoleChat
from bot.plan import plan_for
from bot.privacy import export_person
from reflectbot.server import Server, build_server
from reflectbot.settings import Settings
from storage.db import Store
from storage.importer import import_programme
from storage.models import Person
from tests.conftest import PROGRAMME
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
from tests.fakes.teams_connector import TANVIR_AAD
from tests.teams_world import TeamsChat, World, _actions, assert_valid_card, open_teams_world

TANVIR = "U0TANVIR01"


class Driver(Protocol):
    """One person talking to the bot on one platform."""

    person_id: str
    store: Store

    async def start(self, flow: str) -> None: ...
    async def say(self, text: str) -> None: ...
    async def command(self, text: str) -> None: ...
    async def choose(self, label: str) -> None: ...
    async def later(self, **delta: float) -> None: ...
    def expect(self, *fragments: str) -> Any: ...
    def expect_question(self, *fragments: str) -> Any: ...
    def expect_nothing(self) -> None: ...


async def _planned(store: Store, person_id: str, flow: str):  # type: ignore[no-untyped-def]
    async with store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return next(p for p in await plan_for(session, person) if p.flow == flow)


class Printed(io.StringIO):
    """What the terminal adapter printed for one person, one entry per message (`serve` heads each
    with its recipient and ends it with a blank line)."""

    person_id = "tanvir"

    def messages(self) -> list[str]:
        parts = re.split(r"(?m)^\[to ([^\]]+)\]\n", self.getvalue())
        return [
            text.strip("\n")
            for to, text in zip(parts[1::2], parts[2::2], strict=True)
            if to == self.person_id
        ]


class ConsoleDriver:
    """The terminal adapter (`reflectbot chat`), printing where `serve`'s sweeps print too."""

    def __init__(self, server: Server, printed: Printed, clock: Clock, person_id: str) -> None:
        self.server, self.printed, self.clock, self.person_id = server, printed, clock, person_id
        self.store = server.store
        self.chat = ConsoleChat(server.engine, person_id, server.deliverer.senders["console"], clock)
        self.read = 0

    async def start(self, flow: str) -> None:
        planned = await _planned(self.store, self.person_id, flow)
        self.clock.now = planned.due_at
        await self.server.engine.start(self.person_id, planned, planned.due_at)
        await self.server.deliverer.drain(self.clock.now)

    async def say(self, text: str) -> None:
        await self.chat.say(text + "\n")

    command = say

    async def choose(self, label: str) -> None:
        """Type the number printed before `label` in the last question (a scale prints its
        numbers, "1 · 2 · 3 · 4 · 5": the number is typed as it is)."""
        question = next(m for m in reversed(self.printed.messages()) if m.startswith("── "))
        lines = question.splitlines()
        numbers = [line.split(".")[0].strip() for line in lines if line.endswith(f". {label}")]
        if not numbers and any(label in line.split(" · ") for line in lines if " · " in line):
            numbers = [label]
        assert numbers, f"no option {label!r} in:\n{question}"
        await self.say(numbers[0])

    async def later(self, **delta: float) -> None:
        self.clock.now += timedelta(**delta)
        await self.server.tick(self.clock.now)

    def expect(self, *fragments: str) -> str:
        messages = self.printed.messages()
        assert self.read < len(messages), f"expected a message containing {fragments}, got none"
        message = messages[self.read]
        self.read += 1
        for fragment in fragments:
            assert fragment in message, f"expected {fragment!r} in:\n{message}"
        return message

    def expect_question(self, *fragments: str) -> str:
        message = self.expect(*fragments)
        assert message.startswith("── "), f"not a question:\n{message}"
        return message

    def expect_nothing(self) -> None:
        rest = self.printed.messages()[self.read :]
        assert not rest, f"expected nothing more, got: {rest}"


class TeamsDriver:
    def __init__(self, world: World, person_id: str, aad_object_id: str) -> None:
        self.world, self.person_id = world, person_id
        self.store = world.server.store
        self.chat = TeamsChat(world, world.user(aad_object_id, "Tanvir Hossain"))
        self.last_card: dict[str, Any] | None = None

    async def start(self, flow: str) -> None:
        await self.chat.user.install()
        planned = await _planned(self.store, self.person_id, flow)
        self.world.now = planned.due_at
        await self.world.server.engine.start(self.person_id, planned, planned.due_at)
        await self.world.drain()

    async def say(self, text: str) -> None:
        await self.chat.say(text)

    command = say

    async def choose(self, label: str) -> None:
        assert self.last_card is not None
        await self.chat.click(self.last_card, label)

    async def later(self, **delta: float) -> None:
        self.world.now += timedelta(**delta)
        await self.world.server.tick(self.world.now)

    def expect(self, *fragments: str) -> dict[str, Any]:
        shown = self.chat.expect(*fragments)
        if shown.get("type") == "AdaptiveCard":
            assert_valid_card(shown)
            self.last_card = shown
        return shown

    def expect_question(self, *fragments: str) -> dict[str, Any]:
        card = self.expect(*fragments)
        assert any("question_id" in a.get("data", {}) for a in _actions(card)), "not a question"
        return card

    def expect_nothing(self) -> None:
        self.chat.expect_nothing()


class SlackDriver:
    """One person talking to the bot in Slack."""

    def __init__(self, world: SlackWorld, person_id: str, user: str, commands: str = "dm") -> None:
        self.world, self.person_id, self.user, self.commands = world, person_id, user, commands
        self.read = 0

    @property
    def store(self) -> Store:
        return self.world.server.store

    async def start(self, flow: str) -> None:
        async with self.store.session() as session:
            person = await session.get(Person, self.person_id)
            assert person is not None
            planned = next(p for p in await plan_for(session, person) if p.flow == flow)
        self.world.clock.now = planned.due_at
        await self.world.server.engine.start(self.person_id, planned, planned.due_at)
        await self.world.server.drain()

    async def say(self, text: str) -> None:
        await self.world.dm(self.user, text)
        await self.world.server.drain()

    async def command(self, text: str) -> None:
        """A command, written in the DM or typed as /reflect, as the driver was told."""
        if self.commands == "slash":
            await self.world.command(self.user, text)
            await self.world.server.drain()
        else:
            await self.say(text)

    async def choose(self, label: str) -> None:
        """Click the button `label` of the last question."""
        await self.world.interact(
            self.world.fake.click(self.world.last_question(self.user), self.user, label=label)
        )
        await self.world.server.drain()

    async def later(self, **delta: float) -> None:
        self.world.clock.now += timedelta(**delta)
        await self.world.server.tick(self.world.clock.now)

    def _messages(self) -> list[Call]:
        return self.world.posts(self.user)

    def expect(self, *fragments: str) -> Call:
        messages = self._messages()
        assert self.read < len(messages), f"expected a message containing {fragments}, got none"
        message = messages[self.read]
        self.read += 1
        for fragment in fragments:
            assert fragment in text_of(message), f"expected {fragment!r} in:\n{text_of(message)}"
        return message

    def expect_question(self, *fragments: str) -> Call:
        message = self.expect(*fragments)
        assert any(b["type"] == "actions" for b in message.body["blocks"]), "not a question"
        return message

    def expect_nothing(self) -> None:
        rest = self._messages()[self.read :]
        assert not rest, f"expected nothing more, got: {[text_of(m) for m in rest]}"


Scenario = Callable[["Driver"], Awaitable[None]]


async def answer_by_text_and_by_button(d: Driver) -> None:
    await d.start("midpoint")
    d.expect("halfway through your exchange")
    d.expect_question("What have you observed at Krousar Yoeung")
    await d.say("Mothers' groups meet under the village tree.")
    d.expect_question("Your learning goal: “Train self-reliance groups")
    await d.command("all-now")
    d.expect("all remaining questions now")
    await d.say("Cooking demonstrations teach more than leaflets.")
    # Where he stands on the goal, by the scale's button, and why in a line of text.
    d.expect_question("Where do you stand today with your learning goal “Train self-reliance groups")
    await d.choose("4")
    d.expect_question("In one line: why that number")
    await d.say("Two villages trained, three to go.")
    for fragment, answer in (
        ("What have you achieved", "Ran two trainings."),
        ("What are your next steps", "Visit the provincial office."),
        ("Which new opportunities", "A joint manual."),
        ("biggest “aha” moment", "Grandmothers decide what children eat."),
    ):
        d.expect_question(fragment)
        await d.say(answer)
    d.expect_question("May the panel hear this?")
    await d.choose("Share anonymously")
    d.expect_question("Do you need support")
    await d.choose("No, all is well")
    d.expect("Your midpoint reflection is complete")
    d.expect_nothing()
    export = await export_person(d.store, d.person_id)
    assert [(m["text"], m["consent"]) for m in export["aha_moments"]] == [
        ("Grandmothers decide what children eat.", "anonymous")
    ]
    assert export["reflections"][-1]["answer"] == "No, all is well"
    assert len(export["reflections"]) == 10


async def skip_leaves_a_question_out(d: Driver) -> None:
    await d.start("midpoint")
    d.expect("halfway through your exchange")
    d.expect_question("What have you observed")
    await d.command("skip")
    d.expect("Skipped")
    d.expect_question("Your learning goal")
    assert (await export_person(d.store, d.person_id))["reflections"] == []


async def pause_holds_every_prompt_until_resume(d: Driver) -> None:
    await d.start("midpoint")
    d.expect("halfway through your exchange")
    d.expect_question("What have you observed")
    await d.command("pause until 2027-06-01")
    d.expect("Paused until")
    await d.say("Everyone walks.")  # an answer while paused is kept
    await d.later(days=14)
    d.expect_nothing()
    await d.command("resume")
    d.expect("Welcome back")
    d.expect_question("Your learning goal")  # the current question, once
    d.expect_nothing()
    assert [r["answer"] for r in (await export_person(d.store, d.person_id))["reflections"]] == [
        "Everyone walks."
    ]


SCENARIOS: list[Scenario] = [
    answer_by_text_and_by_button,
    skip_leaves_a_question_out,
    pause_holds_every_prompt_until_resume,
]


PLATFORMS = ["terminal", "slack-dm", "slack-slash", "teams"]


@pytest.fixture(params=PLATFORMS)
async def driver(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> AsyncIterator[Driver]:
    platform = request.param
    if platform == "terminal":
        clock = Clock(datetime(2027, 1, 1, tzinfo=UTC))
        printed = Printed()
        settings = Settings(_env_file=None, database_url=database_url, teams_enabled=False)  # type: ignore[call-arg]
        server = await build_server(settings, clock=clock, console=printed)
        await import_programme(server.store, PROGRAMME)
        yield ConsoleDriver(server, printed, clock, "tanvir")
        await server.close()
    elif platform == "teams":
        async with open_teams_world(tmp_path, PROGRAMME) as world:
            yield TeamsDriver(world, "tanvir", TANVIR_AAD)
            for card in world.every_card():
                assert_valid_card(card)
    else:
        fake = FakeSlack()
        await fake.start()
        server = SlackServer(slack_settings(database_url, fake), Clock(datetime(2027, 1, 1, tzinfo=UTC)))
        url = await server.open()
        teams_id = "teams: 1a7c9e3b-2f4d-4a6b-8c0e-5d3f7b9a1c24"
        moved = tmp_path / "programme.yaml"
        moved.write_text(
            PROGRAMME.read_text(encoding="utf-8").replace(teams_id, f"slack: {TANVIR}"), encoding="utf-8"
        )
        await import_programme(server.store, moved)
        world = SlackWorld(fake, server, url)
        yield SlackDriver(world, "tanvir", TANVIR, "slash" if platform == "slack-slash" else "dm")
        await server.stop()
        await fake.stop()
        assert block_kit_problems(fake) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario(driver: Driver, scenario: Scenario) -> None:
    await scenario(driver)
