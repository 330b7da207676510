"""The requests an outside trial answered with 500, each answered 4xx now, with nothing stored:
401 for anything not signed (or not recently), 400 for a body the platform does not send."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from storage.db import Store
from tests.conftest import table_rows
from tests.fakes.slack_api import (
    SlackWorld,
    open_slack_world,
    post_raw,
    sign,
)
from tests.fakes.teams_connector import TANVIR_AAD
from tests.teams_world import World, open_teams_world
from tests.test_teams import served

RINA = "U0RINA0001"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def slack(programme: Store, database_url: str) -> AsyncIterator[SlackWorld]:
    async with open_slack_world(database_url) as world:
        yield world


def signed(secret: str, body: bytes, content_type: str) -> dict[str, str]:
    stamp = int(time.time())
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": sign(secret, body, stamp),
    }


def dm(text: str) -> dict[str, object]:
    event = {"type": "message", "channel_type": "im", "user": RINA, "text": text, "channel": "D0RINA0001"}
    return {"type": "event_callback", "event_id": "Ev0MALFORMED", "event": event}


@pytest.mark.parametrize(
    "timestamp", ["", "soon", "1e9", "-5", " 1806400000", "18064000000000000000000", "١٨٠٦٤٠٠٠٠٠"]
)
async def test_a_slack_request_without_a_numeric_timestamp_gets_401(
    slack: SlackWorld, timestamp: str
) -> None:
    body = json.dumps(dm("hello")).encode()
    headers = {"Content-Type": JSON, "X-Slack-Signature": "v0=" + "0" * 64}
    if timestamp:
        headers["X-Slack-Request-Timestamp"] = timestamp
    before = await table_rows(slack.server.store)
    assert await post_raw(slack.url, body, headers) == 401
    assert await table_rows(slack.server.store) == before


SIGNED_BUT_MALFORMED = {
    "garbage bytes": (b"\x00\x9f\x92\x96 garbage", JSON),
    "a byte order mark": (b"\xef\xbb\xbf" + json.dumps(dm("hello")).encode(), JSON),
    "invalid UTF-8": (json.dumps(dm("hello")).encode()[:-2] + b"\xc3\x28}", JSON),
    "deep nesting": (b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON),
    "event not an object": (json.dumps({"type": "event_callback", "event": "message"}).encode(), JSON),
    "event a list": (json.dumps({"type": "event_callback", "event": [{"type": "message"}]}).encode(), JSON),
    "no type": (json.dumps({"event": dm("hello")["event"]}).encode(), JSON),
    "a user that is not an id": (
        json.dumps({**dm("x"), "event": {**dm("x")["event"], "user": {"id": RINA}}}).encode(),
        JSON,
    ),  # type: ignore[dict-item]
    "payload not an object": (urlencode({"payload": "[1, 2]"}).encode(), FORM),
    "payload not JSON": (urlencode({"payload": "{type: block_actions"}).encode(), FORM),
    "a question id that is no number": (
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "block_actions",
                        "user": {"id": RINA},
                        "actions": [{"action_id": "rb:answer:x", "value": "1"}],
                    }
                )
            }
        ).encode(),
        FORM,
    ),
    "charset=utf-16": (json.dumps(dm("hello")).encode("utf-16"), f"{JSON}; charset=utf-16"),
}


@pytest.mark.parametrize("case", list(SIGNED_BUT_MALFORMED))
async def test_a_signed_slack_request_slack_would_never_send_gets_400_and_stores_nothing(
    slack: SlackWorld, case: str
) -> None:
    body, content_type = SIGNED_BUT_MALFORMED[case]
    before = await table_rows(slack.server.store)
    assert await post_raw(slack.url, body, signed(slack.fake.signing_secret, body, content_type)) == 400
    assert await table_rows(slack.server.store) == before


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[World]:
    async with open_teams_world(tmp_path, Path(__file__).parent / "fixtures" / "programme.yaml") as opened:
        yield opened


async def test_deep_nesting_gets_400_before_authentication(tmp_path: Path) -> None:
    app = {"microsoft_app_id": "0b5c6a2e-9d41-4f7a-8e3b-1c2d3e4f5a6b", "microsoft_app_password": "x"}
    async with served(tmp_path, **app) as (server, tanvir, connector):
        before = await table_rows(server.store)
        deep = b'{"type": "message", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert await post_raw(tanvir.endpoint, deep, {"Content-Type": JSON}) == 400
        assert await tanvir.say("hello") == 401  # and a well-formed activity still needs its token
        assert await table_rows(server.store) == before
        assert connector.requests == []


@pytest.mark.parametrize(
    "change",
    [
        {"from": None},
        {"conversation": None},
        {"from": {"name": "no id"}},
        {"conversation": {"conversationType": "personal"}},
        {"text": {"not": "text"}},
        {"id": 12},
        {"membersAdded": [None]},
        {"value": {"question_id": 10**30, "answer": "huge"}},
        {"text": "a NUL \u0000 in it"},
    ],
)
async def test_a_development_mode_activity_of_another_shape_gets_400_and_stores_nothing(
    teams: World, change: dict[str, object]
) -> None:
    tanvir = teams.user(TANVIR_AAD, "Tanvir Hossain")
    activity = tanvir.activity("message_text", **change)
    if "value" in change:
        activity.pop("text", None)
    before = await table_rows(teams.server.store)
    assert await tanvir.post(activity) == 400
    assert await table_rows(teams.server.store) == before
    assert teams.connector.requests == []


async def test_a_body_above_the_size_limit_gets_413_on_both_routes(slack: SlackWorld, teams: World) -> None:
    big = json.dumps({"type": "event_callback", "text": "x" * 2_000_000}).encode()
    before = await table_rows(slack.server.store)
    assert await post_raw(slack.url, big, signed(slack.fake.signing_secret, big, JSON)) == 413
    assert await table_rows(slack.server.store) == before
    assert await post_raw(teams.user(TANVIR_AAD).endpoint, big, {"Content-Type": JSON}) == 413
