"""Three replicas share Teams' pace: real processes on one database drain a burst of messages to a
handful of people through a fake Bot Framework connector that enforces Teams' per-conversation
limits for a bot (7 messages in any second, 8 in any 2, 60 in any 30) and a tenant's requests a
second, and answers 429 over them. Every message arrives exactly once and in order per person,
and the connector had to refuse almost nothing: the replicas kept to one pace between them.
(Three replicas each pacing on their own would put up to twelve messages into a conversation's
first second, and meet a 429 for many of them.)

Counts and order are asserted, not seconds: a loaded machine only makes it slower.
"""

from __future__ import annotations

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
from tests.fakes.teams_connector import FakeTeamsConnector, TeamsLimits
from tests.support import cli_environment

PEOPLE = 4
MESSAGES = 10  # each, at once: more than a conversation takes in its first two seconds
TENANT_PER_SECOND = 20  # the fake's limit; the replicas keep to 15 between them


def aad(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def programme_file(directory: Path) -> Path:
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    tanvir = next(p for p in data["participants"] if p["id"] == "tanvir")
    for n in range(PEOPLE):
        data["participants"].append(dict(tanvir, id=f"t{n}", name=f"Teams pace {n}", teams=aad(n)))
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> Any:
    connector = FakeTeamsConnector(limits=TeamsLimits(tenant_per_second=TENANT_PER_SECOND))
    await connector.start()
    try:
        async with programme_store(database_url, programme_file(tmp_path)) as store:
            yield connector, store
    finally:
        await connector.stop()


async def test_three_replicas_keep_to_one_pace_per_conversation_and_every_message_goes_once_in_order(
    world: tuple[FakeTeamsConnector, Store], database_url: str, tmp_path: Path
) -> None:
    connector, store = world
    now = datetime.now(UTC)
    await queue_burst(store, [f"t{p}" for p in range(PEOPLE)], MESSAGES, now)
    env = cli_environment(database_url) | {
        "TEAMS_ENABLED": "true",
        "TEAMS_SERVICE_URL": connector.service_url,
        "TEAMS_TENANT_REQUESTS_PER_SECOND": str(TENANT_PER_SECOND * 0.75),
    }

    reports = await drain_together(env, tmp_path, now, workers=3)

    assert max(r.start for r in reports) < min(r.end for r in reports), "the replicas did not overlap"
    total = PEOPLE * MESSAGES
    assert sum(r.sent for r in reports) == total  # none sent twice by two replicas
    # What the people saw: each one's conversation got every message of theirs once, in order.
    seen = {}
    for p in range(PEOPLE):
        [conversation] = connector.conversations_with(aad(p))
        seen[p] = [a.get("text") for a in connector.activities(conversation)]
    assert seen == {p: [f"t{p} message {n}" for n in range(MESSAGES)] for p in range(PEOPLE)}
    # Teams refused almost nothing: the conversations' pace and the tenant's were kept between
    # the three of them (at most a stray 429, which is retried).
    assert connector.throttled <= 2, (connector.throttled, reports)
    async with store.reading() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("pace:")))
        ).all()
    assert {r.status for r in rows} == {"sent"}
