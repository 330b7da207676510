"""The terminal's conversation scenarios, run over Slack: start the midpoint reflection, answer by
text, answer a choice by button, skip, pause and resume.

A scenario is a function of a driver (start, say, command, choose, later, expect...), so the same
scenario can run over every adapter; `SlackDriver` drives it through signed requests to our
server and reads what the fake Slack received. Tanvir (English) is moved to Slack for this, so
the expectations read the same as in tests/test_engine_transcripts.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.plan import plan_for
from bot.privacy import export_person
from reflectbot.settings import Settings
from storage.db import Store
from storage.importer import import_programme
from storage.models import Person
from tests.conftest import PROGRAMME
from tests.fakes.slack_api import Call, Clock, FakeSlack, SlackServer, SlackWorld, block_kit_problems, text_of

TANVIR = "U0TANVIR01"


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


Scenario = Callable[[SlackDriver], Awaitable[None]]


async def answer_by_text_and_by_button(d: SlackDriver) -> None:
    await d.start("midpoint")
    d.expect("halfway through your exchange")
    d.expect_question("What have you observed at Krousar Yoeung")
    await d.say("Mothers' groups meet under the village tree.")
    d.expect_question("Your learning goal: “Train self-reliance groups")
    await d.command("all-now")
    d.expect("all remaining questions now")
    await d.say("Cooking demonstrations teach more than leaflets.")
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
    assert len(export["reflections"]) == 8


async def skip_leaves_a_question_out(d: SlackDriver) -> None:
    await d.start("midpoint")
    d.expect("halfway through your exchange")
    d.expect_question("What have you observed")
    await d.command("skip")
    d.expect("Skipped")
    d.expect_question("Your learning goal")
    assert (await export_person(d.store, d.person_id))["reflections"] == []


async def pause_holds_every_prompt_until_resume(d: SlackDriver) -> None:
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


@pytest.fixture
async def tanvir_on_slack(store: Store, tmp_path: Path) -> Store:
    teams_id = "teams: 1a7c9e3b-2f4d-4a6b-8c0e-5d3f7b9a1c24"
    text = PROGRAMME.read_text(encoding="utf-8")
    assert text.count(teams_id) == 1
    moved = tmp_path / "programme.yaml"
    moved.write_text(text.replace(teams_id, f"slack: {TANVIR}"), encoding="utf-8")
    await import_programme(store, moved)
    return store


@pytest.fixture
async def slack_world(tanvir_on_slack: Store, database_url: str) -> AsyncIterator[SlackWorld]:
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token="xoxb-17-test-token",
        slack_signing_secret=fake.signing_secret,
        slack_api_url=fake.api_url,
        slack_messages_per_second=1000.0,
    )
    server = SlackServer(settings, Clock(datetime(2027, 1, 1, tzinfo=UTC)))
    url = await server.open()
    yield SlackWorld(fake, server, url)
    await server.stop()
    await fake.stop()
    assert block_kit_problems(fake) == []


@pytest.mark.parametrize("commands", ["dm", "slash"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_over_slack(slack_world: SlackWorld, scenario: Scenario, commands: str) -> None:
    await scenario(SlackDriver(slack_world, "tanvir", TANVIR, commands))
