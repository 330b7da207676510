"""Slack end to end: our server (store, engine, outbox, Slack adapter on slack-bolt) against a fake
Slack Web API on 127.0.0.1, with every request to /slack/events signed as Slack signs it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.i18n import Translator
from bot.messages import Outgoing
from bot.plan import plan_for
from bot.privacy import export_person
from storage.db import Store
from storage.models import (
    Answer,
    ChatIdentity,
    Conversation,
    InboundEvent,
    OutboxMessage,
    Person,
    Question,
    SupportRequest,
)
from storage.outbox import enqueue
from tests.conftest import table_rows
from tests.fakes.slack_api import (
    Clock,
    FakeSlack,
    SlackServer,
    SlackWorld,
    block_kit_problems,
    payload,
    slack_settings,
    text_of,
)

RINA = "U0RINA0001"
RINA_DM = "D0RINA0001"
INGRID = "U0COORD001"
RINA_GOAL = "Form self-reliance groups that help women save money for healthcare costs"


async def due(store: Store, person_id: str, flow: str) -> datetime:
    async with store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return next(p.due_at for p in await plan_for(session, person) if p.flow == flow)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def world(programme: Store, database_url: str, fake: FakeSlack) -> AsyncIterator[SlackWorld]:
    server = SlackServer(
        slack_settings(database_url, fake),
        Clock(datetime(2027, 1, 1, tzinfo=UTC)),
    )
    url = await server.open()
    yield SlackWorld(fake, server, url)
    await server.stop()
    # Whatever a test did, everything the bot sent must be valid Block Kit.
    assert block_kit_problems(fake) == []


async def at_midpoint(world: SlackWorld, person: str = "rina") -> datetime:
    at = await due(world.server.store, person, "midpoint")
    world.clock.now = at
    await world.server.tick(at)
    return at


def section_texts(call_body: dict) -> str:
    return "\n".join(b["text"]["text"] for b in call_body["blocks"] if b["type"] == "section")


async def inbox_of(store: Store) -> list[tuple[str, str | None, str, str | None]]:
    async with store.session() as session:
        rows = (await session.exec(select(InboundEvent).order_by(InboundEvent.id))).all()  # type: ignore[arg-type]
        return [(r.event_id, r.person_id, r.status, (r.payload or {}).get("text")) for r in rows]


async def answers_of(store: Store, person_id: str) -> dict[str, Answer]:
    async with store.session() as session:
        rows = await session.exec(
            select(Question, Answer)
            .join(Answer, Answer.question_id == Question.id)  # type: ignore[arg-type]
            .where(Answer.person_id == person_id)
        )
        return {q.key: a for q, a in rows.all()}


# -- Done when ------------------------------------------------------------------------------------
async def test_a_tick_at_rinas_midpoint_sends_her_a_dm_that_quotes_her_learning_goal(
    world: SlackWorld,
) -> None:
    await at_midpoint(world)
    calls = world.fake.calls
    opened = next(
        i for i, c in enumerate(calls) if c.method == "conversations.open" and c.body["users"] == RINA
    )
    posted = [
        i for i, c in enumerate(calls) if c.method == "chat.postMessage" and c.body["channel"] == RINA_DM
    ]
    assert posted and opened < posted[0]
    question = world.last_question(RINA)
    assert f"> {RINA_GOAL}" in section_texts(question.body)
    assert question.headers["Authorization"] == "Bearer xoxb-17-test-token"
    # The context line names the flow and the progress, in Rina's language.
    context = [b for b in question.body["blocks"] if b["type"] == "context"][-1]
    title = Translator().gettext("bn", "Midpoint reflection")
    assert title in context["elements"][0]["text"]


async def test_a_signed_dm_reply_is_stored_before_the_response_and_the_next_question_posted(
    world: SlackWorld,
) -> None:
    await at_midpoint(world)
    asked = len(world.questions(RINA))
    reply = await world.fake.send_event(
        world.url, world.fake.message_im(RINA, "Women save 20 taka a week.", "Ev0KEPT00001")
    )
    assert reply.status == 200
    # Stored before Slack got its answer: the reply waits in the inbox, as she wrote it.
    assert await inbox_of(world.server.store) == [
        ("Ev0KEPT00001", "rina", "pending", "Women save 20 taka a week.")
    ]
    assert len(world.questions(RINA)) == asked
    # What the server's loop does next: the engine takes it, and the outbox sends what follows.
    await world.server.drain()
    export = await export_person(world.server.store, "rina")
    assert [r["answer"] for r in export["reflections"]] == ["Women save 20 taka a week."]
    # Taken: the inbox keeps the event id (for retries) and no longer her words.
    assert await inbox_of(world.server.store) == [("Ev0KEPT00001", "rina", "done", None)]
    questions = world.questions(RINA)
    assert len(questions) == asked + 1
    # The learning question quotes the goal it asks about.
    assert f"> {RINA_GOAL}" in section_texts(questions[-1].body)


async def test_a_reply_acknowledged_just_before_a_crash_is_taken_after_the_restart(
    world: SlackWorld, database_url: str
) -> None:
    """The process dies after Slack got its 200 and before the engine took the reply: a new
    process on the same database takes it at its first sweep, once."""
    await at_midpoint(world)
    asked = len(world.questions(RINA))
    reply = await world.fake.send_event(world.url, world.fake.message_im(RINA, "Women save 20 taka a week."))
    assert reply.status == 200
    restarted = SlackServer(slack_settings(database_url, world.fake), world.clock)
    await restarted.open()
    try:
        report = await restarted.tick(world.clock.now)
        assert report.replies == 1
        assert [a.text for a in (await answers_of(restarted.store, "rina")).values()] == [
            "Women save 20 taka a week."
        ]
        assert len(world.questions(RINA)) == asked + 1
        # The old process's loop, had it lived on, finds nothing left to take.
        assert (await world.server.tick(world.clock.now)).replies == 0
        assert len(world.questions(RINA)) == asked + 1
    finally:
        await restarted.stop()


async def test_a_click_on_a_scale_button_is_stored_as_that_value_for_that_question(
    world: SlackWorld,
) -> None:
    at = await due(world.server.store, "rina", "final")
    world.clock.now = at
    await world.server.tick(at)
    outcomes = world.last_question(RINA)
    await world.interact(world.fake.tick_and_send(outcomes, RINA, ["innovation", "technical-competence"]))
    await world.server.drain()
    assert (await answers_of(world.server.store, "rina"))["outcomes"].values == [
        "technical-competence",
        "innovation",
    ]
    for _ in range(2):  # one sentence per outcome chosen
        await world.dm(RINA, "Savings groups now keep a ledger.")
        await world.server.drain()
    scale = world.last_question(RINA)
    assert [e["value"] for b in scale.body["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    await world.interact(world.fake.click(scale, RINA, value="4"))
    await world.server.drain()
    answers = await answers_of(world.server.store, "rina")
    assert answers["goal_progress"].values == ["4"] and answers["goal_progress"].text == "4"
    goal_question = scale.body["blocks"][-2]["block_id"].removeprefix("rb-q-")
    assert answers["goal_progress"].question_id == int(goal_question)
    # The message is then updated to show the recorded answer, without its buttons.
    update = world.fake.called("chat.update")[-1]
    assert (update.body["channel"], update.body["ts"]) == (scale.response["channel"], scale.response["ts"])
    assert not any(b["type"] == "actions" for b in update.body["blocks"])
    # Rina reads Bengali: the recorded answer is shown in her language.
    assert Translator().gettext("bn", "Your answer: {answer}", answer="4") in section_texts(update.body)


async def test_a_form_submission_slack_sends_twice_counts_once(world: SlackWorld) -> None:
    """Events carry an event_id (the platform contracts retry those); a modal submission has
    none, so its view id and hash name it."""
    await at_midpoint(world)
    await world.interact(world.fake.click(world.last_question(RINA), RINA, kind="form"))
    submission = world.fake.submit_form(world.fake.called("views.open")[-1], RINA, "Twice?")
    await world.interact(submission)
    before = await table_rows(world.server.store)
    await world.interact(submission)
    assert await table_rows(world.server.store) == before
    assert [a.text for a in (await answers_of(world.server.store, "rina")).values()] == ["Twice?"]


@pytest.mark.parametrize("forgery", ["bad signature", "ten-minute-old timestamp"])
async def test_a_forged_or_stale_request_gets_401_and_stores_nothing(world: SlackWorld, forgery: str) -> None:
    await at_midpoint(world)
    before = await table_rows(world.server.store)
    calls = len(world.fake.calls)
    event = world.fake.message_im(RINA, "Let me in.")
    if forgery == "bad signature":
        reply = await world.fake.send_event(world.url, event, secret="not-the-signing-secret")
    else:
        reply = await world.fake.send_event(world.url, event, timestamp=int(time.time()) - 600)
    assert reply.status == 401
    assert await table_rows(world.server.store) == before
    assert len(world.fake.calls) == calls


async def test_a_form_submission_is_stored_against_its_question(world: SlackWorld) -> None:
    await at_midpoint(world)
    first = world.last_question(RINA)
    await world.interact(world.fake.click(first, RINA, kind="form"))
    opened = world.fake.called("views.open")[-1]
    view = opened.body["view"]
    assert opened.body["trigger_id"] and len(view["title"]["text"]) <= 24
    question_id = json.loads(view["private_metadata"])["q"]
    long_answer = "The savings group meets every Friday. " * 150  # longer than any Block Kit text
    await world.interact(world.fake.submit_form(opened, RINA, long_answer))
    async with world.server.store.session() as session:
        answer = (await session.exec(select(Answer).where(Answer.question_id == question_id))).one()
    assert answer.text == long_answer.strip()  # stored whole
    await world.server.drain()
    update = world.fake.called("chat.update")[-1]
    assert update.body["ts"] == first.response["ts"]
    echo = section_texts(update.body)
    assert "The savings group meets every Friday." in echo and len(echo) < len(long_answer)


async def test_an_answer_with_lt_gt_and_amp_is_echoed_escaped(world: SlackWorld) -> None:
    await at_midpoint(world)
    first = world.last_question(RINA)
    await world.dm(RINA, "first try")
    await world.server.drain()
    # Days later Rina corrects her first answer through its form: the bot echoes it back.
    world.clock.now += timedelta(days=2)
    await world.interact(world.fake.click(first, RINA, kind="form"))
    written = "Savings <10 taka> & loans"
    await world.interact(world.fake.submit_form(world.fake.called("views.open")[-1], RINA, written))
    await world.server.drain()
    echoes = [c for c in world.posts(RINA) if "Savings" in c.body["text"]]
    echoes += world.fake.called("chat.update")
    assert len(echoes) == 2
    for echo in echoes:
        shown = echo.body["text"] + section_texts(echo.body)
        assert "Savings &lt;10 taka&gt; &amp; loans" in shown
        assert "<10" not in shown and "> &" not in shown
    assert (await answers_of(world.server.store, "rina"))["observations"].text == written
    # A support request quotes the person to their coordinator, escaped as well.
    await world.command(RINA, "support <b>visa</b> & passport")
    await world.server.drain()
    alert = world.posts(INGRID)[-1]
    assert "&lt;b&gt;visa&lt;/b&gt; &amp; passport" in section_texts(alert.body)
    async with world.server.store.session() as session:
        request = (await session.exec(select(SupportRequest))).one()
    assert request.text == "<b>visa</b> & passport"


async def test_opening_app_home_publishes_the_persons_view(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.dm(RINA, "Women save 20 taka a week.")
    await world.server.drain()
    opened = world.fake.home_opened(RINA)
    reply = await world.fake.send_event(world.url, opened)
    assert reply.status == 200
    # Like every reply: kept before Slack's answer, published by the work loop.
    assert (await inbox_of(world.server.store))[-1] == (opened["event_id"], "rina", "pending", None)
    assert world.fake.called("views.publish") == []
    await world.server.drain()
    published = world.fake.called("views.publish")[-1]
    assert published.body["user_id"] == RINA
    view = published.body["view"]
    assert view["type"] == "home"
    shown = json.dumps(view, ensure_ascii=False)
    assert RINA_GOAL in shown  # her learning goal
    assert "Women save 20 taka a week." in shown  # her answer so far
    bn = Translator()
    assert bn.gettext("bn", "Final reflection") in shown  # what comes next
    assert bn.gettext("bn", "Midpoint reflection") in shown  # where she is now


async def midpoint_status(store: Store, person_id: str) -> str:
    async with store.session() as session:
        conv = (
            await session.exec(
                select(Conversation).where(
                    Conversation.person_id == person_id, Conversation.flow == "midpoint"
                )
            )
        ).one()
        return conv.status


async def test_every_message_and_view_sent_passes_block_kit_models(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.command(RINA, "all-now")
    await world.server.drain()
    while await midpoint_status(world.server.store, "rina") == "open":
        question = world.last_question(RINA)
        buttons = [
            e
            for b in question.body["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith("rb:answer:")
        ]
        if buttons:  # "yes" for support, so that the follow-up question comes too
            await world.interact(world.fake.click(question, RINA, value=buttons[-1]["value"]))
        else:
            await world.dm(RINA, "An answer with *stars*, <angles> & ampersands. " * 20)
        await world.server.drain()
    await world.fake.send_event(world.url, world.fake.home_opened(RINA))
    await world.interact(world.fake.click(world.questions(RINA)[0], RINA, kind="form"))
    await world.server.drain()
    sent = {c.method for c in world.fake.calls}
    assert {"chat.postMessage", "chat.update", "views.publish", "views.open"} <= sent
    assert len(world.posts(INGRID)) == 1  # the support request reached her coordinator
    assert block_kit_problems(world.fake) == []


# -- beyond the list ------------------------------------------------------------------------------
async def test_with_the_server_running_the_next_question_follows_a_reply_at_once(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.server.start()
    asked = len(world.questions(RINA))
    await world.dm(RINA, "Women save 20 taka a week.")
    await world.fake.wait_for(lambda: len(world.questions(RINA)) > asked)


async def test_someone_unknown_opening_app_home_sees_the_strangers_view_and_nothing_is_stored(
    world: SlackWorld,
) -> None:
    before = await table_rows(world.server.store)
    reply = await world.fake.send_event(world.url, world.fake.home_opened("U0STRANGER"))
    assert reply.status == 200
    # Published from the request itself: nothing of theirs is kept for the work loop to take.
    [published] = world.fake.called("views.publish")
    assert published.body["user_id"] == "U0STRANGER"
    assert "I do not know you yet" in json.dumps(published.body["view"])
    await world.server.drain()
    assert await table_rows(world.server.store) == before
    assert len(world.fake.called("views.publish")) == 1


@pytest.mark.parametrize("name", ["event_message_from_bot", "event_message_changed", "event_channel_join"])
async def test_bots_edits_and_joins_are_ignored(world: SlackWorld, name: str) -> None:
    await at_midpoint(world)
    before = await table_rows(world.server.store)
    calls = len(world.fake.calls)
    reply = await world.fake.send_event(world.url, payload(name))
    assert reply.status == 200
    assert await table_rows(world.server.store) == before
    assert [c.method for c in world.fake.calls[calls:]] in ([], ["auth.test"])


async def test_reflect_commands_answer_in_the_dm(world: SlackWorld) -> None:
    await at_midpoint(world)
    posts = len(world.posts(RINA))
    reply = await world.command(RINA, "status")
    assert reply.text == ""  # typed in the DM: the answer is right there
    await world.server.drain()
    status = Translator().gettext("bn", "Midpoint reflection")
    assert status in text_of(world.posts(RINA)[posts])

    reply = await world.command(RINA, "help", channel="C0GENERAL1")
    expected = Translator().gettext("bn", "I have answered in our direct messages.")
    assert expected != "I have answered in our direct messages."  # her catalogue has it
    assert json.loads(reply.text)["text"] == expected
    await world.command(RINA, "no-such-thing")  # an unknown word gets the help, never an answer
    await world.server.drain()
    assert await answers_of(world.server.store, "rina") == {}
    helps = [c for c in world.posts(RINA) if "pause" in text_of(c) and "2027-03-01" in text_of(c)]
    assert len(helps) == 2

    await world.command(RINA, "pause 2027-04-12")
    async with world.server.store.session() as session:
        person = await session.get(Person, "rina")
        assert person is not None and person.paused and str(person.paused_until) == "2027-04-12"
    await world.command(RINA, "resume")
    await world.command(RINA, "support I feel unwell")
    async with world.server.store.session() as session:
        person = await session.get(Person, "rina")
        assert person is not None and not person.paused
        assert [r.text for r in (await session.exec(select(SupportRequest))).all()] == ["I feel unwell"]


async def test_reflect_share_keeps_an_aha_moment_private(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.command(RINA, "share Grandmothers <decide> what children eat")
    export = await export_person(world.server.store, "rina")
    assert [(m["text"], m["consent"]) for m in export["aha_moments"]] == [
        ("Grandmothers <decide> what children eat", "private")
    ]


async def test_reflect_export_typed_in_a_channel_sends_the_file_to_the_dm(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.dm(RINA, "Women save 20 taka a week.")
    reply = await world.command(RINA, "export", channel="C0GENERAL1")
    assert json.loads(reply.text)["text"] == Translator().gettext("bn", "I have answered in our direct messages.")
    assert world.fake.called("files.completeUploadExternal") == []  # the work loop sends it
    await world.server.drain()
    complete = world.fake.called("files.completeUploadExternal")[-1]
    assert complete.body["channel_id"] == RINA_DM
    data = json.loads(world.fake.uploads[complete.body["files"][0]["id"]])
    assert data["person"] == "rina"
    assert data["reflections"][0]["answer"] == "Women save 20 taka a week."
    # Introduced in her language.
    intro = Translator().gettext("bn", "Everything reflectbot keeps about you, as JSON:")
    assert intro != "Everything reflectbot keeps about you, as JSON:"
    assert complete.body["initial_comment"] == intro


async def test_a_channel_post_goes_to_the_channel(world: SlackWorld) -> None:
    pack = Outgoing(person_id="", text="Spring learning panel: what we learned", kind="panel-pack")
    async with world.server.store.session() as session:
        await enqueue(
            session,
            key="panel-pack:spring-panel",
            person_id=None,
            channel="slack:C0PANEL001",
            payload=pack.to_json(),
            now=world.clock.now,
        )
    await world.server.drain()
    posted = world.fake.posts_to("C0PANEL001")
    assert len(posted) == 1 and "what we learned" in text_of(posted[0])
    assert world.fake.called("conversations.open") == []


async def test_the_dm_channel_is_opened_once_and_kept(world: SlackWorld) -> None:
    await at_midpoint(world)
    for reply in ("One.", "Two."):
        await world.dm(RINA, reply)
        await world.server.drain()
    assert [c.body["users"] for c in world.fake.called("conversations.open")].count(RINA) == 1
    assert len(world.posts(RINA)) >= 4
    async with world.server.store.session() as session:
        identity = (await session.exec(select(ChatIdentity).where(ChatIdentity.external_id == RINA))).one()
    assert identity.reference == {"dm_channel": RINA_DM}


async def test_socket_mode_takes_events_without_a_public_url(
    programme: Store, database_url: str, fake: FakeSlack
) -> None:
    settings = slack_settings(database_url, fake, slack_app_token="xapp-1-test", slack_signing_secret=None)
    server = SlackServer(settings, Clock(await due(programme, "rina", "midpoint")))
    url = await server.open()
    try:
        assert server.adapters["slack"].routes() == []
        assert (await fake.send_event(url, fake.message_im(RINA, "over HTTP"))).status == 404
        await server.tick(server.clock.now)
        await server.start()
        assert fake.called("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-1-test"
        envelope = await fake.socket_send(fake.message_im(RINA, "Women save 20 taka a week."))
        await fake.wait_for(lambda: any(a.get("envelope_id") == envelope for a in fake.socket_acks))
        # Acknowledged once kept; the server's loop then takes it.
        for _ in range(100):
            export = await export_person(server.store, "rina")
            if export["reflections"]:
                break
            await asyncio.sleep(0.1)
        assert [r["answer"] for r in export["reflections"]] == ["Women save 20 taka a week."]
    finally:
        await server.stop()


async def test_an_event_the_bot_does_not_subscribe_to_is_acknowledged_and_ignored(world: SlackWorld) -> None:
    before = await table_rows(world.server.store)
    event = payload("event_app_home_opened")
    event["event"] = {
        "type": "reaction_added",
        "user": RINA,
        "reaction": "tada",
        "event_ts": "1806401200.000100",
    }
    reply = await world.fake.send_event(world.url, event)
    assert reply.status == 200  # not 404, which Slack would retry
    assert await table_rows(world.server.store) == before


async def test_a_coordinator_clicks_an_action_button_on_an_alert(world: SlackWorld) -> None:
    await at_midpoint(world)
    await world.command(RINA, "support My visa runs out")
    await world.server.drain()
    alert = world.posts(INGRID)[-1]
    buttons = [e for b in alert.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons, "the alert has a Mark handled button"
    assert buttons[0]["action_id"].startswith("rb:do:")
    await world.interact(world.fake.click(alert, INGRID, kind="do"))
    async with world.server.store.session() as session:
        request = (await session.exec(select(SupportRequest))).one()
    assert request.handled_at is not None and request.handled_by == "ingrid"


async def test_a_flood_to_one_person_waits_in_the_outbox_and_holds_up_no_one_else(
    programme: Store, database_url: str, fake: FakeSlack
) -> None:
    """Paced at Slack's one message a second per channel (bursts of 2, one under Slack's 3, in the
    buckets every replica shares): Rina's six messages go out two now and the rest a second
    apart, in order and once each, while Bishal's message, queued after hers, goes out at once."""
    clock = Clock(datetime(2027, 3, 1, 5, 0, tzinfo=UTC))
    server = SlackServer(slack_settings(database_url, fake, slack_messages_per_second=1.0), clock)
    await server.open()
    try:
        async with server.store.session() as session:
            for n in range(6):
                out = Outgoing(person_id="rina", text=f"Notice {n}", always=True)
                await enqueue(session, key=f"flood:{n}", person_id="rina", payload=out.to_json(), now=clock.now)
            out = Outgoing(person_id="bishal", text="Your notice", always=True)
            await enqueue(session, key="bishal", person_id="bishal", payload=out.to_json(), now=clock.now)
        await server.drain()
        assert [text_of(c) for c in fake.posts_to(fake.dm_of(RINA))] == ["Notice 0", "Notice 1"]
        assert [text_of(c) for c in fake.posts_to(fake.dm_of("U0BISHAL01"))] == ["Your notice"]
        async with server.store.session() as session:
            waiting = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))
            ).all()
        # Held back by our own pacing, not failed: no attempt is counted against them.
        assert len(waiting) == 4 and all(m.attempts == 0 for m in waiting)
        for _ in range(10):
            await asyncio.sleep(0.6)
            clock.now += timedelta(seconds=0.6)
            await server.drain()
        assert [text_of(c) for c in fake.posts_to(fake.dm_of(RINA))] == [f"Notice {n}" for n in range(6)]
    finally:
        await server.stop()
