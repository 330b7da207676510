"""A platform answer of an unexpected shape is a refusal, not a crash: the outbox sets the message
aside for good (it may have been posted, so it is not sent twice), says so in one line without a
traceback, and the person's next message goes out as usual."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.db import Store
from storage.models import OutboxMessage
from tests.conftest import PROGRAMME
from tests.fakes.slack_api import SlackWorld, open_slack_world
from tests.fakes.teams_connector import TANVIR_AAD
from tests.teams_world import World, open_teams_world

RINA = "U0RINA0001"


async def outbox(store: Store, person_id: str) -> list[tuple[str, str | None]]:
    async with store.reading() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(OutboxMessage.id)  # type: ignore[arg-type]
            )
        ).all()
    return [(str(r.status), r.last_error) for r in rows]


def one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    assert all(r.exc_info is None for r in caplog.records), [r.getMessage() for r in caplog.records]


@pytest.fixture
async def slack(programme: Store, database_url: str) -> AsyncIterator[SlackWorld]:
    async with open_slack_world(database_url) as world:
        yield world


async def midpoint(world: SlackWorld) -> datetime:
    from tests.test_slack_serve import due

    at = await due(world.server.store, "rina", "midpoint")
    world.clock.now = at
    return at


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        ("chat.postMessage", {"ok": True}),
        ("chat.postMessage", {"ok": True, "channel": 5, "ts": None}),
        ("chat.postMessage", [1, 2]),
        ("conversations.open", {"ok": True}),
        ("conversations.open", {"ok": True, "channel": "D0RINA0001"}),
    ],
)
async def test_a_slack_answer_without_what_it_names_fails_that_message_in_one_line(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture, method: str, answer: Any
) -> None:
    slack.fake.answer_next(method, answer)
    at = await midpoint(slack)
    with caplog.at_level(logging.INFO):
        await slack.server.tick(at)
    one_line_each(caplog)
    # Whichever of the two people's messages, sent side by side, met the answer first.
    rows = await outbox(slack.server.store, "rina") + await outbox(slack.server.store, "priya")
    failed = [e for s, e in rows if s == "failed"]
    assert len(failed) == 1 and failed[0].startswith("unexpected answer from Slack ("), rows
    # Nothing is retried for ever: everything else was sent, and the person got their messages.
    assert {s for s, _ in rows} == {"sent", "failed"}
    assert slack.posts(RINA) and slack.posts("U0PRIYA001")
    assert "unexpected answer from Slack" in caplog.text


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[World]:
    async with open_teams_world(tmp_path, PROGRAMME) as opened:
        yield opened


@pytest.mark.parametrize("answer", [{}, {"id": None}, {"id": ""}, [1], "null", "this is not JSON"])
async def test_a_teams_connector_answer_without_an_id_fails_that_message_in_one_line(
    teams: World, caplog: pytest.LogCaptureFixture, answer: Any
) -> None:
    tanvir = teams.user(TANVIR_AAD, "Tanvir Hossain")
    assert await tanvir.install() == 201
    teams.connector.answer_next(201, answer)
    with caplog.at_level(logging.INFO):
        await teams.tick(await teams.due("tanvir", "midpoint"))
    one_line_each(caplog)
    rows = await outbox(teams.server.store, "tanvir")
    failed = [e for s, e in rows if s == "failed"]
    assert len(failed) == 1 and failed[0] in (
        "Teams connector answered without the message's id",
        "Teams connector's answer could not be read",
    ), rows
    assert {s for s, _ in rows} == {"sent", "failed"}
    # The rest reached his chat.
    assert teams.connector.cards(tanvir.conversation_id)


@pytest.mark.parametrize("answer", [{"ok": False, "error": "channel_not_found"}, [1]])
async def test_a_failed_answer_to_someone_unknown_is_not_a_500_slack_would_retry(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture, answer: Any
) -> None:
    from tests.conftest import table_rows

    before = await table_rows(slack.server.store)
    slack.fake.answer_next("chat.postMessage", answer)
    with caplog.at_level(logging.INFO):
        reply = await slack.fake.send_event(slack.url, slack.fake.message_im("U0STRANGER", "who are you?"))
    assert reply.status == 200
    one_line_each(caplog)
    assert await table_rows(slack.server.store) == before
    assert slack.fake.called("chat.postMessage")  # it was tried, once
