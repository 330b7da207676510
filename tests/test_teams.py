"""Teams end to end: `reflectbot serve`'s server (build_server) with the Teams adapter, activities
posted to /api/messages as Teams posts them, and a fake Bot Framework connector as the other end."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from bot.privacy import export_person
from reflectbot.server import build_server
from reflectbot.settings import Settings
from storage.importer import import_programme
from storage.models import InboundEvent, OutboxMessage, SupportRequest
from tests.conftest import PROGRAMME, table_rows
from tests.databases import fresh_database
from tests.fakes.teams_connector import (
    FARHANA_AAD,
    SOKHA_AAD,
    TANVIR_AAD,
    TENANT,
    FakeTeamsConnector,
    TeamsUser,
    adaptive_cards,
)
from tests.teams_world import TeamsChat, World, answers, assert_valid_card, open_teams_world, question_id_of

FAMILY_PRACTICES = "Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_teams_world(tmp_path, PROGRAMME) as opened:
        yield opened


async def inbox_of(world: World) -> list[tuple[str, str | None, str, str | None]]:
    async with world.server.store.reading() as session:
        rows = (await session.exec(select(InboundEvent).order_by(InboundEvent.id))).all()  # type: ignore[arg-type]
    return [(r.event_id, r.person_id, r.status, (r.payload or {}).get("text")) for r in rows]


async def test_installing_the_app_stores_the_persons_conversation_reference(world: World) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    assert await world.reference("tanvir") is None
    assert await tanvir.install() == 201
    stored = await world.reference("tanvir")
    assert stored is not None
    assert stored["conversation_id"] == tanvir.conversation_id
    assert stored["service_url"] == world.connector.service_url
    assert stored["tenant_id"] == TENANT
    assert stored["conversation_reference"]["user"]["aadObjectId"] == TANVIR_AAD
    assert world.connector.requests == []  # installing says nothing back by itself


async def test_a_tick_at_the_midpoint_posts_a_card_quoting_the_learning_goal(world: World) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    await world.tick(await world.due("tanvir", "midpoint"))
    activities = world.connector.activities(tanvir.conversation_id)
    assert "halfway through your exchange" in activities[0]["text"]
    card = world.connector.cards(tanvir.conversation_id)[0]
    texts = json.dumps(card, ensure_ascii=False)
    assert "What have you observed at Krousar Yoeung" in texts
    assert f"“{FAMILY_PRACTICES}”" in texts
    assert "Midpoint reflection · 1 of 11" in texts
    assert_valid_card(card)


async def test_a_text_reply_and_a_card_submission_are_kept_before_the_201_and_taken_by_the_work_loop(
    world: World,
) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    await world.tick(await world.due("tanvir", "midpoint"))
    first = world.connector.cards(tanvir.conversation_id)[-1]

    # A typed reply: in the inbox, as written, when Teams gets its 201; nothing else done yet.
    calls = len(world.connector.requests)
    typed = tanvir.activity("message_text", text="Mothers' groups meet under the village tree.")
    assert await tanvir.post(typed) == 201
    assert await inbox_of(world) == [(typed["id"], "tanvir", "pending", "Mothers' groups meet under the village tree.")]
    assert world.connector.requests[calls:] == []  # no call to Teams from the request
    assert await answers(world, "tanvir") == {}
    # The server's work loop takes it: the answer is stored and the next card follows.
    await world.server.runner.take_and_send()
    second = world.connector.cards(tanvir.conversation_id)[-1]
    assert FAMILY_PRACTICES in json.dumps(second, ensure_ascii=False)
    assert question_id_of(second) != question_id_of(first)

    # The form on the card answers the card's own question; kept the same way.
    value = {
        "question_id": question_id_of(second),
        "answer": "Cooking demonstrations teach more than leaflets.",
    }
    calls = len(world.connector.requests)
    submitted = tanvir.activity("submit_choice", value=value)
    assert await tanvir.post(submitted) == 201
    assert await inbox_of(world) == [
        (typed["id"], "tanvir", "done", None),  # taken: only its id is kept, for retries
        (submitted["id"], "tanvir", "pending", "Cooking demonstrations teach more than leaflets."),
    ]
    assert world.connector.requests[calls:] == []
    assert "learning" not in await answers(world, "tanvir")
    await world.server.runner.take_and_send()

    stored = await answers(world, "tanvir")
    assert stored["observations"].text == "Mothers' groups meet under the village tree."
    assert stored["learning"].text == "Cooking demonstrations teach more than leaflets."
    assert {stored["observations"].platform, stored["learning"].platform} == {"teams"}
    export = await export_person(world.server.store, "tanvir")
    assert [(r["question"][:28], r["answer"]) for r in export["reflections"]] == [
        ("What have you observed at Kr", "Mothers' groups meet under the village tree."),
        ("Your learning goal: “Train s", "Cooking demonstrations teach more than leaflets."),
    ]

    # Each answered card, typed or submitted, now shows the recorded answer in place of its form.
    card_ids = [
        i
        for i, a in zip(
            world.connector.activity_ids(tanvir.conversation_id),
            world.connector.activities(tanvir.conversation_id),
            strict=True,
        )
        if adaptive_cards(a)
    ]
    updates = world.connector.updates(tanvir.conversation_id)
    assert [u.path.rsplit("/", 1)[1] for u in updates] == card_ids[:2]
    shown = [json.dumps(adaptive_cards(u.body)[0], ensure_ascii=False) for u in updates]
    assert "Your answer: Mothers' groups meet under the village tree." in shown[0]
    assert "Your answer: Cooking demonstrations teach more than leaflets." in shown[1]
    assert all("Input.Text" not in s and "Action.Submit" not in s for s in shown)

    # A late submission on the first card still answers the first question, and its card
    # (the one Teams names as the submission's replyToId) shows the correction.
    late = {"question_id": question_id_of(first), "answer": "Also: fathers cook."}
    assert await tanvir.submit(late, reply_to=card_ids[0]) == 201
    await world.server.runner.take_and_send()
    stored = await answers(world, "tanvir")
    assert stored["observations"].text == "Also: fathers cook."
    assert stored["learning"].text == "Cooking demonstrations teach more than leaflets."
    update = world.connector.updates(tanvir.conversation_id)[-1]
    assert update.path.rsplit("/", 1)[1] == card_ids[0]
    assert "Your answer: Also: fathers cook." in json.dumps(adaptive_cards(update.body)[0], ensure_ascii=False)
    for card in world.every_card():
        assert_valid_card(card)


async def test_a_card_that_cannot_be_updated_leaves_the_answer_stored_and_the_rest_flowing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    tanvir = TeamsChat(world, world.user(TANVIR_AAD, "Tanvir Hossain"))
    await tanvir.user.install()
    await world.tick(await world.due("tanvir", "midpoint"))
    world.connector.fail_next(404, route="update")  # e.g. the person deleted the message
    with caplog.at_level(logging.WARNING):
        await tanvir.say("Mothers' groups meet under the village tree.")
    assert "not updated: ErrorResponseException 404" in caplog.text
    assert "Mothers" not in caplog.text  # ids and types only, never what a person wrote
    assert (await answers(world, "tanvir"))["observations"].text == "Mothers' groups meet under the village tree."
    async with world.server.store.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.person_id == "tanvir"))).all()
    assert {r.status for r in rows} == {"sent"}  # not failed, not retried
    assert FAMILY_PRACTICES in json.dumps(world.connector.cards(tanvir.user.conversation_id)[-1], ensure_ascii=False)


async def test_a_changed_conversation_reference_replaces_the_stored_one_at_the_next_activity(
    world: World,
) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    assert await tanvir.say("help") == 201
    assert (await world.reference("tanvir"))["conversation_id"] == tanvir.conversation_id  # type: ignore[index]
    await world.drain()
    assert len(world.connector.activities(tanvir.conversation_id)) == 1  # the help
    # Teams moved his chat (a new conversation id): what reaches him now is the new one.
    tanvir.conversation_id = "a:personal-moved-conversation"
    assert await tanvir.say("status") == 201
    assert (await world.reference("tanvir"))["conversation_id"] == "a:personal-moved-conversation"  # type: ignore[index]
    await world.drain()
    assert len(world.connector.activities("a:personal-moved-conversation")) == 1  # the status answer


async def test_without_a_stored_reference_the_conversation_is_created_and_the_prompt_arrives(
    world: World,
) -> None:
    assert await world.reference("sokha") is None
    await world.tick(await world.due("sokha", "midpoint"))

    [create] = world.connector.creates(SOKHA_AAD)
    assert create.body["members"] == [{"id": SOKHA_AAD}]
    assert create.body["tenantID"] == TENANT  # the programme's teams_tenant (botbuilder spells it so)
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    assert create.body["isGroup"] is False
    [conversation_id] = world.connector.conversations_with(SOKHA_AAD)
    cards = world.connector.cards(conversation_id)
    assert len(cards) == 1 and question_id_of(cards[0])
    assert cards[0]["lang"] == "km"
    stored = await world.reference("sokha")
    assert stored is not None and stored["conversation_id"] == conversation_id

    # The next prompt continues that conversation instead of creating another.
    sokha = world.user(SOKHA_AAD, "Sokha Chan")
    sokha.conversation_id = conversation_id
    await sokha.say("Grandmothers decide what children eat.")
    await world.drain()
    assert len(world.connector.creates(SOKHA_AAD)) == 1
    assert len(world.connector.cards(conversation_id)) == 2


async def test_a_refused_conversation_marks_the_person_unreachable_until_the_app_is_installed(
    world: World,
) -> None:
    world.connector.refuse_create()
    await world.tick(await world.due("sokha", "midpoint"))
    assert len(world.connector.creates(SOKHA_AAD)) == 2  # the intro and the first question, each refused once
    assert world.connector.cards() == []
    person = await world.person("sokha")
    assert person.unreachable_reason == "Teams app not installed for this person"
    async with world.server.store.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.person_id == "sokha"))).all()
    assert {r.status for r in rows} == {"failed"}  # not retried forever

    # Once the app is installed for her, she is reachable again and what she missed arrives.
    world.connector.allow_create()
    sokha = world.user(SOKHA_AAD, "Sokha Chan")
    assert await sokha.install() == 201
    await world.drain()
    assert (await world.person("sokha")).unreachable_reason is None
    assert len(world.connector.cards(sokha.conversation_id)) == 1
    assert len(world.connector.creates(SOKHA_AAD)) == 2


async def test_removing_the_app_forgets_the_reference_and_a_stale_one_is_replaced(world: World) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    assert await tanvir.post(tanvir.activity("installation_update_remove")) == 201
    assert await world.reference("tanvir") is None

    # A reference Teams no longer accepts (403) is dropped, and a new 1:1 conversation is made.
    await tanvir.install()
    world.connector.fail_next(403, route="send")
    await world.tick(await world.due("tanvir", "midpoint"))
    assert len(world.connector.creates(TANVIR_AAD)) == 1
    [conversation_id] = world.connector.conversations_with(TANVIR_AAD)
    assert (await world.reference("tanvir"))["conversation_id"] == conversation_id  # type: ignore[index]
    assert len(world.connector.cards(conversation_id)) == 1


async def test_support_alerts_reach_a_teams_coordinator_with_a_button(world: World) -> None:
    tanvir = TeamsChat(world, world.user(TANVIR_AAD, "Tanvir Hossain"))
    await tanvir.user.install()
    await world.tick(await world.due("tanvir", "midpoint"))
    await tanvir.say("support")
    await tanvir.say("My visa needs renewing <soon> & fast.")
    [conversation_id] = world.connector.conversations_with(FARHANA_AAD)  # created on the way
    [card] = [c for c in world.connector.cards(conversation_id) if "My visa" in json.dumps(c)]
    assert_valid_card(card)
    assert "My visa needs renewing <soon> & fast." in json.dumps(card, ensure_ascii=False)
    buttons = [a for a in card.get("actions", []) if "action" in a["data"]]
    assert buttons, "the alert has a button to mark it handled"

    farhana = world.user(FARHANA_AAD, "Farhana Begum")
    farhana.conversation_id = conversation_id
    before = len(world.connector.activities(conversation_id))
    assert await farhana.submit(buttons[0]["data"]) == 201
    await world.drain()
    assert len(world.connector.activities(conversation_id)) == before + 1  # the button's answer
    async with world.server.store.session() as session:
        request = (await session.exec(select(SupportRequest))).one()
    assert (request.handled_by, request.handled_at) == ("farhana", world.now)


@contextlib.asynccontextmanager
async def served(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[Any, TeamsUser, FakeTeamsConnector]]:
    """`reflectbot serve` with these settings on 127.0.0.1, the fixture programme imported, and
    Tanvir's Teams client pointed at its /api/messages."""
    with fresh_database(tmp_path) as database_url:
        async with _served(database_url, **settings) as served:
            yield served


@contextlib.asynccontextmanager
async def _served(database_url: str, **settings: Any) -> AsyncIterator[tuple[Any, TeamsUser, FakeTeamsConnector]]:
    connector = FakeTeamsConnector()
    await connector.start()
    server = await build_server(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            teams_service_url=connector.service_url,
            **settings,
        ),
        console=io.StringIO(),
    )
    await import_programme(server.store, PROGRAMME)
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
        yield server, TeamsUser(url, connector.service_url, TANVIR_AAD), connector
    finally:
        await runner.cleanup()
        await server.close()
        await connector.stop()


async def test_with_teams_not_configured_there_is_no_teams_endpoint_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    """A Slack-only (or terminal-only) server opens no unauthenticated Teams door: an activity
    posted to /api/messages gets 404 and stores nothing."""
    async with served(tmp_path) as (server, tanvir, _connector):
        assert "teams" not in server.adapters
        before = await table_rows(server.store)
        assert await tanvir.install() == 404
        assert await tanvir.say("I am Tanvir, store this") == 404
        assert await table_rows(server.store) == before


async def test_with_an_app_id_unauthenticated_activities_are_refused_and_nothing_is_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = {
        "microsoft_app_id": "0b5c6a2e-9d41-4f7a-8e3b-1c2d3e4f5a6b",
        "microsoft_app_password": "not-a-real-secret",
    }
    async with served(tmp_path, **app) as (server, tanvir, connector):
        with caplog.at_level(logging.WARNING):
            await server.adapters["teams"].start()
        assert "UNAUTHENTICATED" not in caplog.text
        before = await table_rows(server.store)
        assert await tanvir.install() == 401
        assert await tanvir.say("hello") == 401
        assert await tanvir.say("hello", **{}) == 401
        assert await table_rows(server.store) == before
        assert connector.requests == []


async def test_without_an_app_id_the_server_says_loudly_that_it_accepts_anyone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await world.server.adapters["teams"].start()
    warning = [r for r in caplog.records if r.levelno == logging.WARNING and "UNAUTHENTICATED" in r.message]
    assert warning and "Never expose" in warning[0].message


async def test_with_the_server_running_the_next_question_follows_a_reply_without_a_tick(world: World) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    world.now = await world.due("tanvir", "midpoint")
    await world.server.start()  # the sweeps (at world.now) and the drain loop
    try:
        await world.connector.wait_for(lambda: len(world.connector.cards(tanvir.conversation_id)) == 1)
        assert await tanvir.say("Mothers' groups meet under the village tree.") == 201
        await world.connector.wait_for(lambda: len(world.connector.cards(tanvir.conversation_id)) == 2)
        assert FAMILY_PRACTICES in json.dumps(world.connector.cards(tanvir.conversation_id)[1])
    finally:
        await world.server.stop()


async def test_a_post_to_a_teams_channel_is_a_new_thread_in_that_channel(world: World) -> None:
    from bot.messages import Delivery, Outgoing

    channel = "19:a1b2c3d4e5f6@thread.tacv2"
    teams = world.server.adapters["teams"]
    pack = Outgoing(person_id="", kind="panel-pack", text="# Spring learning panel\n\n- Grandmothers decide")
    message_id = await teams.send(Delivery("teams", channel), pack)
    [post] = [r for r in world.connector.requests if r.conversation_id == channel]
    assert post.path == f"/v3/conversations/{channel}/activities"  # not a reply to an old thread
    assert post.answer == {"id": message_id}
    assert post.body["textFormat"] == "markdown" and post.body["text"].startswith("# Spring learning panel")
    assert world.connector.creates() == []


async def test_what_is_not_an_activity_is_refused_and_stores_nothing(world: World) -> None:
    import aiohttp


    before = await table_rows(world.server.store)
    async with aiohttp.ClientSession() as session:
        for body, headers, status in (
            (b"{not json", {"Content-Type": "application/json"}, 400),
            (b'{"text": "no type"}', {"Content-Type": "application/json"}, 400),
            (b'{"type": "message", "from": "not an account"}', {"Content-Type": "application/json"}, 400),
            (b"type=message", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ):
            async with session.post(world.endpoint, data=body, headers=headers) as response:
                assert response.status == status, body
    assert await table_rows(world.server.store) == before


async def test_an_invoke_gets_an_empty_invoke_response_and_stores_nothing(world: World) -> None:
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    before = await table_rows(world.server.store)
    invoke = tanvir.activity("message_text", type="invoke", value={"action": {}})
    invoke["name"] = "adaptiveCard/action"
    assert await tanvir.post(invoke) == 200  # an empty invoke response: nothing here handles invokes
    assert await table_rows(world.server.store) == before


def test_a_remembered_reference_is_trusted_for_a_while_and_only_while_it_is_the_same() -> None:
    from adapters.teams.references import Remembered

    now = [0.0]
    remembered = Remembered(ttl=300, clock=lambda: now[0])
    reference = {"conversation_id": "a:1", "stored_at": "2027-01-18T03:00:00+00:00"}
    assert remembered.person_for(TANVIR_AAD, reference) is None  # never seen: storage is asked
    remembered.keep(TANVIR_AAD, "tanvir", reference)
    # When it was stored is no part of what it says.
    assert remembered.person_for(TANVIR_AAD, {**reference, "stored_at": "later"}) == "tanvir"
    assert remembered.person_for(TANVIR_AAD, {**reference, "conversation_id": "a:2"}) is None
    remembered.keep(TANVIR_AAD, "tanvir", reference)
    now[0] = 301  # another process may have changed it meanwhile: storage is asked again
    assert remembered.person_for(TANVIR_AAD, reference) is None


def sent_cards(world: World, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(Teams message id, card) of every card sent in the conversation, in order."""
    return [
        (message_id, adaptive_cards(activity)[0])
        for message_id, activity in zip(
            world.connector.activity_ids(conversation_id), world.connector.activities(conversation_id), strict=True
        )
        if adaptive_cards(activity)
    ]


async def test_the_card_a_person_answers_on_is_the_one_that_shows_the_answer(world: World) -> None:
    """After a reminder two cards ask the same question: the one Teams names as the submission's
    card (its replyToId) shows the answer. A typed answer shows on the latest card that asked."""
    tanvir = world.user(TANVIR_AAD, "Tanvir Hossain")
    await tanvir.install()
    due = await world.due("tanvir", "midpoint")
    await world.tick(due)
    await world.tick(due + timedelta(days=4))  # no answer yet: a reminder, itself a card
    (first_id, first), (reminder_id, reminder) = sent_cards(world, tanvir.conversation_id)
    assert question_id_of(first) == question_id_of(reminder)
    value = {"question_id": question_id_of(first), "answer": "Mothers' groups meet under the village tree."}
    assert await tanvir.submit(value, reply_to=first_id) == 201
    await world.drain()
    [update] = world.connector.updates(tanvir.conversation_id)
    assert update.path.rsplit("/", 1)[1] == first_id != reminder_id

    current_id, _current = sent_cards(world, tanvir.conversation_id)[-1]
    assert await tanvir.say("Cooking demonstrations teach more than leaflets.") == 201
    await world.drain()
    update = world.connector.updates(tanvir.conversation_id)[-1]
    assert update.path.rsplit("/", 1)[1] == current_id
    assert "Cooking demonstrations" in json.dumps(adaptive_cards(update.body)[0])
