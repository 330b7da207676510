"""Development mode (TEAMS_ENABLED=true without MICROSOFT_APP_ID) accepts activities nobody vouches
for: whatever serviceUrl one names, replies and prompts go only to TEAMS_SERVICE_URL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import PROGRAMME
from tests.fakes.teams_connector import TANVIR_AAD, FakeTeamsConnector
from tests.teams_world import World, open_teams_world

STRANGER_AAD = "0f0f0f0f-1111-4222-8333-444455556666"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_teams_world(tmp_path, PROGRAMME) as opened:
        yield opened


@pytest.fixture
async def elsewhere() -> AsyncIterator[FakeTeamsConnector]:
    """Another connector on 127.0.0.1: where an activity says replies should go."""
    other = FakeTeamsConnector()
    await other.start()
    yield other
    await other.stop()


async def test_an_installation_naming_another_service_url_leaves_prompts_going_to_teams_service_url(
    world: World, elsewhere: FakeTeamsConnector
) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    assert await tanvir.install() == 201
    redirected = tanvir.activity("conversation_update_install", serviceUrl=elsewhere.service_url)
    assert await tanvir.post(redirected) == 201
    assert await tanvir.say("help", serviceUrl=elsewhere.service_url) == 201
    await world.drain()
    stored = await world.reference("tanvir")
    assert stored is not None and stored["service_url"] == world.connector.service_url
    assert stored["conversation_reference"]["serviceUrl"] == world.connector.service_url
    await world.tick(await world.due("tanvir", "midpoint"))
    assert elsewhere.requests == []
    # His answer to `help` and his midpoint card reached his chat through TEAMS_SERVICE_URL.
    texts = json.dumps(world.connector.activities(tanvir.conversation_id), ensure_ascii=False)
    assert "halfway through your exchange" in texts
    assert world.connector.cards(tanvir.conversation_id)


async def test_the_answer_to_a_stranger_naming_another_service_url_goes_to_teams_service_url(
    world: World, elsewhere: FakeTeamsConnector
) -> None:
    stranger = world.user(STRANGER_AAD, "Not in the programme")
    assert await stranger.say("hello", serviceUrl=elsewhere.service_url) == 201
    assert elsewhere.requests == []
    assert world.connector.activities(stranger.conversation_id)  # answered, at the trusted address


async def test_a_first_contact_naming_another_service_url_stores_teams_service_url(
    world: World, elsewhere: FakeTeamsConnector
) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    assert (
        await tanvir.post(tanvir.activity("conversation_update_install", serviceUrl=elsewhere.service_url))
        == 201
    )
    await world.tick(await world.due("tanvir", "midpoint"))
    assert elsewhere.requests == []
    assert world.connector.cards(tanvir.conversation_id)
