"""Three replicas share Slack's pace: real processes on one database drain a burst of messages to
a handful of people through a fake Slack that enforces chat.postMessage's limits (a burst of 3,
then one a second per channel; a number a minute for the workspace) and answers 429 over them.
Every message arrives exactly once and in order per person, and Slack had to refuse almost
nothing: the replicas kept to one pace between them, not three. (Three replicas each pacing on
their own would send three times a channel's rate, and meet a 429 for most of the messages.)

Counts and order are asserted, not seconds: a loaded machine only makes it slower.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from storage.db import Store
from storage.models import OutboxMessage
from tests.conftest import PROGRAMME
from tests.drain_replicas import drain_together, programme_store, queue_burst
from tests.fakes.slack_api import FakeSlack, SlackLimits, text_of
from tests.support import cli_environment

PEOPLE = 5
MESSAGES = 6  # each, at once: two over a channel's burst even for a single sender
WORKSPACE_LIMIT = 600  # a minute, as the fake enforces it (we keep to a little under it): the channels bind


def programme_file(directory: Path) -> Path:
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    for n in range(PEOPLE):
        data["participants"].append(
            dict(rina, id=f"s{n}", name=f"Sender test {n}", language="en", slack=f"U0PACE{n:04d}")
        )
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> Any:
    fake = FakeSlack(
        limits=SlackLimits(channel_burst=3, channel_per_second=1.0, workspace_per_minute=WORKSPACE_LIMIT)
    )
    await fake.start()
    try:
        async with programme_store(database_url, programme_file(tmp_path)) as store:
            yield fake, store
    finally:
        await fake.stop()


async def test_three_replicas_keep_to_one_pace_per_channel_and_every_message_goes_once_in_order(
    world: tuple[FakeSlack, Store], database_url: str, tmp_path: Path
) -> None:
    fake, store = world
    now = datetime.now(UTC)
    await queue_burst(store, [f"s{p}" for p in range(PEOPLE)], MESSAGES, now)
    env = cli_environment(database_url) | {
        "SLACK_BOT_TOKEN": "xoxb-17-test-token",
        "SLACK_SIGNING_SECRET": fake.signing_secret,
        "SLACK_API_URL": fake.api_url,
        "SLACK_MESSAGES_PER_SECOND": "1",
        "SLACK_WORKSPACE_MESSAGES_PER_MINUTE": str(WORKSPACE_LIMIT * 0.9),
    }

    reports = await drain_together(env, tmp_path, now, workers=3)

    assert max(r.start for r in reports) < min(r.end for r in reports), "the replicas did not overlap"
    total = PEOPLE * MESSAGES
    assert sum(r.sent for r in reports) == total  # none sent twice by two replicas
    # What the people saw: each got every message of theirs once, in the order written.
    by_channel: dict[str, list[str]] = defaultdict(list)
    for call in fake.called("chat.postMessage"):
        if call.response.get("ok"):
            by_channel[call.body["channel"]].append(text_of(call))
    assert by_channel == {
        fake.dm_of(f"U0PACE{p:04d}"): [f"s{p} message {n}" for n in range(MESSAGES)] for p in range(PEOPLE)
    }
    assert sum(fake.posted.values()) == total
    # Slack refused almost nothing: the channel's pace and the workspace's were kept between
    # the three of them (at most a stray 429, which is retried, and is in the counts above).
    assert fake.post_calls - total == sum(fake.ratelimited.values())
    assert sum(fake.ratelimited.values()) <= 2, (fake.ratelimited, reports)
    async with store.reading() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("pace:")))
        ).all()
    assert {r.status for r in rows} == {"sent"}
    assert all(r.attempts <= 2 for r in rows)  # paced sends are not counted as attempts
