"""Nothing a person wrote reaches the log, whichever way their request fails.

A text carrying a unique marker goes through every failure path: a bad signature, an old
timestamp, a signed body bolt does not handle (bolt logs those whole), malformed bodies, a send
the platform refuses, a send whose answer is not what the platform gives, and the inbox insert
failing (its table dropped: SQLAlchemy's error quotes the statement's parameters). Everything
every logger writes, libraries included, at DEBUG, goes through the handler `configure_logging`
installs; the marker must not be in it. A second handler without the filter sees the same
records, to show that the marker did reach the logging calls.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from reflectbot.logs import configure_logging
from storage.db import Store
from tests.conftest import PROGRAMME
from tests.databases import KIND
from tests.fakes.slack_api import (
    FakeSlack,
    SlackWorld,
    open_slack_world,
    post_raw,
    sign,
)
from tests.fakes.teams_connector import TANVIR_AAD
from tests.teams_world import World, open_teams_world

RINA = "U0RINA0001"


@contextmanager
def every_log_line() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """(what the configured handler writes, what an unfiltered handler would have written)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    private, raw = io.StringIO(), io.StringIO()
    configure_logging("DEBUG", private)
    unfiltered = logging.StreamHandler(raw)
    unfiltered.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # First, so that it sees each record before the filter rewrites it.
    root.handlers.insert(0, unfiltered)
    try:
        yield private, raw
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@pytest.fixture
async def slack(programme: Store, database_url: str) -> AsyncIterator[SlackWorld]:
    async with open_slack_world(database_url) as world:
        yield world


def signed(fake: FakeSlack, body: bytes, content_type: str = "application/json") -> dict[str, str]:
    stamp = int(time.time())
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(fake.signing_secret, body, stamp),
    }


async def drop_inbox(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text("DROP TABLE inboundevent"))


async def test_no_slack_failure_path_logs_what_a_person_wrote(slack: SlackWorld) -> None:
    from tests.test_slack_serve import due

    marker = f"secret-{uuid.uuid4().hex}"
    fake, url = slack.fake, slack.url
    at = await due(slack.server.store, "rina", "midpoint")
    slack.clock.now = at
    with every_log_line() as (private, raw):
        await slack.server.tick(at)
        event = fake.message_im(RINA, f"My answer {marker}")
        body = json.dumps(event).encode()
        assert (await fake.send_event(url, event, secret="not-the-signing-secret")).status == 401
        assert (await fake.send_event(url, event, timestamp=int(time.time()) - 600)).status == 401
        assert await post_raw(url, body, {**signed(fake, body), "X-Slack-Request-Timestamp": marker}) == 401
        unhandled = json.dumps({"type": marker, "text": marker}).encode()
        assert await post_raw(url, unhandled, signed(fake, unhandled)) == 404
        for malformed in (
            b"\xef\xbb\xbf" + body,
            body[:-2] + b"\xff}",
            b'{"type": "event_callback", "event": '
            + b"[" * 500
            + json.dumps(marker).encode()
            + b"]" * 500
            + b"}",
            json.dumps(
                {
                    "type": "event_callback",
                    "event": {"type": "message", "channel_type": "im", "text": marker, "user": ["U1"]},
                }
            ).encode(),
        ):
            assert await post_raw(url, malformed, signed(fake, malformed)) == 400
        # Words sent on to the coordinator, once refused, once answered in a shape Slack never uses.
        fake.fail_next("chat.postMessage", "channel_not_found")
        await slack.dm(RINA, f"support {marker}")
        await slack.server.drain()
        fake.answer_next("chat.postMessage", {"ok": True, "echo": marker})
        await slack.dm(RINA, f"support {marker} again")
        await slack.server.drain()
        # The inbox insert fails: its statement's parameters hold the text.
        await drop_inbox(slack.server.store)
        reply = await fake.send_event(url, fake.message_im(RINA, f"Lost {marker}"))
        assert reply.status == 500  # a failure of ours: Slack retries it
    written = private.getvalue()
    assert marker in raw.getvalue()  # it did reach the logging calls
    # What went wrong is still told, by the type of the database's error.
    assert re.search(r"(OperationalError|ProgrammingError)", written)
    assert "slack: request refused (401): bad signature" in written
    assert marker not in written


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[World]:
    async with open_teams_world(tmp_path, PROGRAMME) as opened:
        yield opened


async def test_no_teams_failure_path_logs_what_a_person_wrote(teams: World) -> None:
    marker = f"secret-{uuid.uuid4().hex}"
    tanvir = teams.user(TANVIR_AAD, "Tanvir Hossain")
    headers = {"Content-Type": "application/json"}
    with every_log_line() as (private, raw):
        assert await tanvir.install() == 201
        await teams.tick(await teams.due("tanvir", "midpoint"))
        deep = b'{"type": "message", "text": ' + b"[" * 500 + json.dumps(marker).encode() + b"]" * 500 + b"}"
        assert await post_raw(tanvir.endpoint, deep, headers) == 400
        assert (
            await post_raw(tanvir.endpoint, b"\xef\xbb\xbf" + json.dumps({"text": marker}).encode(), headers)
            == 400
        )
        assert await tanvir.post(tanvir.activity("message_text", text=marker, conversation=None)) == 400
        assert await tanvir.post(tanvir.activity("message_text", text=marker, type="invoke")) == 200
        teams.connector.fail_next(500, route="send")
        assert await tanvir.say(f"support {marker}") == 201
        await teams.drain()
        await drop_inbox(teams.server.store)
        assert await tanvir.say(f"Lost {marker}") == 500  # a failure of ours: Teams retries it
    written = private.getvalue()
    if KIND == "sqlite":
        # Proof that the filter is what keeps it out: here the only path that echoes the words
        # is SQLite's error, which quotes the statement's parameters; asyncpg's does not.
        assert marker in raw.getvalue()
    assert re.search(r"(OperationalError|ProgrammingError)", written)
    assert marker not in written
