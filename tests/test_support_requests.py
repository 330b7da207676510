"""Support requests: the alert reaches the coordinators within one tick, carries a "Mark handled"
button, and a coordinator of that partnership marks it handled (button or `handled N`), after
which it no longer shows as open in the digest."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlmodel import select

from bot.i18n import Translator
from bot.messages import Incoming, Outgoing
from bot.reports.digest import build_digest, render_text
from reflectbot.server import build_server
from reflectbot.settings import Settings
from storage.db import Store
from storage.importer import import_programme
from storage.models import OutboxMessage, SupportRequest
from tests.conftest import PROGRAMME
from tests.test_digest import NOW, answer_by_key, start
from tests.transcript import Transcript


async def ask_support(t: Transcript, person_id: str, words: str) -> int:
    t.unread(person_id)
    await t.engine.handle(Incoming("console", person_id, text=f"support {words}", is_command=True), t.now)
    await t.deliverer.drain(t.now)
    async with t.engine.store.session() as session:
        request = (
            await session.exec(
                select(SupportRequest).where(
                    SupportRequest.person_id == person_id, SupportRequest.text == words
                )
            )
        ).one()
    assert request.id is not None
    return request.id


async def click(t: Transcript, person_id: str, action: str) -> None:
    await t.engine.handle(Incoming("console", person_id, action=action), t.now)
    await t.deliverer.drain(t.now)


async def request_row(t: Transcript, request_id: int) -> SupportRequest:
    async with t.engine.store.session() as session:
        request = await session.get(SupportRequest, request_id)
        assert request is not None
        return request


async def test_the_alert_reaches_the_coordinator_within_one_tick(database_url: str) -> None:
    console = io.StringIO()
    server = await build_server(Settings(_env_file=None, database_url=database_url), console=console)  # type: ignore[call-arg]
    try:
        await import_programme(server.store, PROGRAMME)
        when = datetime.fromisoformat("2027-03-31T04:15:00+00:00")
        await server.engine.handle(
            Incoming("slack", "U0RINA0001", text="support My visa needs renewing.", is_command=True), when
        )
        async with server.store.session() as session:
            pending = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.person_id == "ingrid"))
            ).one()
            assert pending.status == "pending"  # stored before anything is sent

        await server.tick(when)

        async with server.store.session() as session:
            alert_row = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.person_id == "ingrid"))
            ).one()
        assert alert_row.status == "sent"
        alert = Outgoing.from_json(alert_row.payload)
        request_id = int(alert.actions[0].id.rpartition(":")[2])
        assert alert.kind == "alert" and alert.language == "nb"
        assert [a.id for a in alert.actions] == [f"support-handled:{request_id}"]
        # Who, when (in Ingrid's time zone, Oslo) and the words Rina chose to send, in Norwegian.
        shown = console.getvalue()
        assert "Rina Akter ber om støtte (onsdag 31. mars 2027, 06:15): “My visa needs renewing.”" in shown
        assert f"håndtert {request_id}" in shown  # the command, as Ingrid writes it in Norwegian
        # Rina is told, in Bengali, who was alerted.
        assert "আপনার কো-অর্ডিনেটরদের জানানো হয়েছে: Ingrid Solberg" in shown
    finally:
        await server.close()


async def test_the_button_marks_it_handled_and_the_digest_no_longer_shows_it(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    request_id = await ask_support(t, "rina", "My visa needs renewing.")
    alert = t.expect("ingrid", "Rina Akter", "My visa needs renewing.", f"håndtert {request_id}")
    assert alert.kind == "alert" and alert.actions[0].label == "Merk som håndtert"
    before = render_text(await build_digest(t.engine.store, "ingrid", t.now), translator, "en")
    assert "“My visa needs renewing.”" in before

    t.now += timedelta(hours=2)
    await click(t, "ingrid", alert.actions[0].id)

    t.expect("ingrid", f"Forespørsel {request_id} fra Rina Akter er merket som håndtert")
    request = await request_row(t, request_id)
    assert (request.handled_at, request.handled_by) == (t.now, "ingrid")
    digest = await build_digest(t.engine.store, "ingrid", t.now)
    assert all(p.support == () for p in digest.partnerships)
    assert "My visa needs renewing." not in render_text(digest, translator, "en")

    await click(t, "ingrid", alert.actions[0].id)
    t.expect("ingrid", f"Forespørsel {request_id} er allerede merket som håndtert av Ingrid Solberg")
    assert (await request_row(t, request_id)).handled_at == t.now


async def test_the_typed_command_marks_it_handled_and_tells_the_other_coordinators(
    transcript: Transcript,
) -> None:
    t = transcript
    request_id = await ask_support(t, "tanvir", "I need a letter for the district office.")
    t.expect("ingrid", "Tanvir Hossain")
    t.expect("farhana", "Tanvir Hossain")

    await t.send("farhana", "handled")
    listing = t.expect(
        "farhana", f"{request_id}", "Tanvir Hossain", "I need a letter for the district office."
    )
    assert "সমাধান" in listing.text  # how to mark it, in Farhana's Bengali command word
    assert (await request_row(t, request_id)).handled_at is None

    await t.send("farhana", f"handled {request_id}")
    t.expect("farhana", f"{request_id}", "Tanvir Hossain")
    assert (await request_row(t, request_id)).handled_by == "farhana"
    t.expect("ingrid", "Farhana Begum", f"{request_id}", "Tanvir Hossain")

    await t.send("farhana", "handled")
    t.expect("farhana", "কোনো খোলা সহায়তার অনুরোধ নেই")


async def test_only_a_coordinator_of_that_partnership_can_mark_it(transcript: Transcript) -> None:
    t = transcript
    request_id = await ask_support(t, "rina", "My visa needs renewing.")
    t.unread("farhana")
    # Farhana follows kry-aspada only; Rina is in aspada-sahaj.
    await click(t, "farhana", f"support-handled:{request_id}")
    t.expect("farhana", f"{request_id}")
    await t.send("bishal", f"handled {request_id}")
    t.expect("bishal")
    await t.send("farhana", "handled 999")
    t.expect("farhana", "999")
    request = await request_row(t, request_id)
    assert request.handled_at is None and request.handled_by is None


async def test_a_support_answer_in_the_midpoint_flow_alerts_with_the_button(transcript: Transcript) -> None:
    t = transcript
    t.now = NOW
    await start(t, "bishal", "midpoint")
    await t.send("bishal", "all-now")
    await answer_by_key(
        t, "bishal", {"support": "2", "support_note": "My landlord wants me out."}, default="skip"
    )
    alert = t.expect("ingrid", "Bishal Thapa", "My landlord wants me out.")
    assert alert.actions and alert.actions[0].id == "support-handled:" + str(int(alert.actions[0].id.rpartition(":")[2]))


async def test_on_slack_the_alert_arrives_within_one_tick_and_its_button_marks_it_handled(
    programme: Store, database_url: str
) -> None:
    """End to end on Slack: Rina's `/reflect support` reaches Ingrid's DM with the next tick, and
    Ingrid's click on "Mark handled" (a signed block_actions request) closes the request."""
    from datetime import UTC

    from tests.fakes import slack_api as fakes

    fake = fakes.FakeSlack()
    await fake.start()
    server = fakes.SlackServer(
        fakes.slack_settings(database_url, fake), fakes.Clock(datetime(2027, 3, 31, 4, 15, tzinfo=UTC))
    )
    world = fakes.SlackWorld(fake, server, await server.open())
    try:
        await world.command("U0RINA0001", "support My visa needs renewing.")
        assert world.posts("U0COORD001") == []  # stored, not yet sent

        await server.tick(world.clock.now)

        [alert] = world.posts("U0COORD001")
        shown = fakes.text_of(alert)
        assert "Rina Akter ber om støtte (onsdag 31. mars 2027, 06:15): “My visa needs renewing.”" in shown
        async with server.store.session() as session:
            [request] = (await session.exec(select(SupportRequest))).all()
        assert f"håndtert {request.id}" in shown

        world.clock.now += timedelta(minutes=30)
        await world.interact(fake.click(alert, "U0COORD001", label="Merk som håndtert", kind="do"))
        await server.drain()

        async with server.store.session() as session:
            handled = await session.get(SupportRequest, request.id)
        assert (
            handled is not None and handled.handled_by == "ingrid" and handled.handled_at == world.clock.now
        )
        assert "er merket som håndtert" in fakes.text_of(world.posts("U0COORD001")[-1])
        digest = await build_digest(server.store, "ingrid", world.clock.now)
        assert all(p.support == () for p in digest.partnerships)
        assert fakes.block_kit_problems(fake) == []
    finally:
        await server.stop()
        await fake.stop()
