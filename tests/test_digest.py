"""The coordinator's digest, from answers planted through the engine for the sample programme."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.delivery import Deliverer
from bot.i18n import Translator
from bot.messages import Delivery, Op, Outgoing
from bot.plan import plan_for
from bot.ports import DeliveryError
from bot.reports.digest import (
    UnknownCoordinator,
    build_digest,
    digest_message,
    render_html,
    render_markdown,
    render_text,
)
from reflectbot.server import build_server
from reflectbot.settings import Settings
from storage.db import Store
from storage.importer import import_programme
from storage.models import Conversation, OutboxMessage, Person, Question
from tests.conftest import PROGRAMME
from tests.support import cli_runner
from tests.transcript import Transcript

NOW = datetime.fromisoformat("2027-03-31T04:15:00+00:00")
PARTNERSHIPS = ("Aspada and Pahal", "Aspada and Sahaj Community Hospital", "Krousar Yoeung and Aspada")
RINA_MIDPOINT = {
    "observations": "Patients pay into a community health fund.",
    "learning": "Groups save weekly and lend to the sickest first.",
    "goal_progress": "3",
    "goal_progress_why": "I have seen two groups start.",
    "achievements": "I led a savings meeting on my own.",
    "next_steps": "Visit the Pokhara branch.",
    "opportunities": "A joint savings fund with Aspada.",
    "aha": "Grandmothers decide what the family saves for.",
    "aha_consent": "3",  # private: the panel never hears it, her coordinators still do
    "support": "2",
    "support_note": "My visa needs renewing.",
}
# A main.py that runs the `reflectbot` app with the output commands, whether or not cli.py
# registers them yet (register() adds each command once).


async def answer_by_key(
    t: Transcript, person_id: str, answers: Mapping[str, str], default: str | None = None
) -> None:
    """Answer the person's current question by its key until no question is open."""
    for _ in range(60):
        async with t.engine.store.session() as session:
            conv = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.person_id == person_id, Conversation.status == "open"
                    )
                )
            ).first()
            question = (
                await session.get(Question, conv.current_question_id)
                if conv is not None and conv.current_question_id
                else None
            )
        if question is None:
            return
        answer = answers.get(question.key, default)
        assert answer is not None, f"no answer planted for {question.key}"
        await t.send(person_id, answer)
    raise AssertionError("the bot kept asking")


async def start(t: Transcript, person_id: str, flow: str, key: str | None = None, drain: bool = True) -> None:
    """Start one of the person's planned conversations at the transcript's clock."""
    async with t.engine.store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        planned = next(
            p for p in await plan_for(session, person) if p.flow == flow and (key is None or p.key == key)
        )
    assert await t.engine.start(person_id, planned, t.now) is not None
    if drain:
        await t.deliverer.drain(t.now)


class TeamsRefuses:
    """A Teams sender for someone who has not installed the app: the connector refuses for good."""

    platform = "teams"
    supports = frozenset({Op.MESSAGE})

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        raise DeliveryError("teams: the bot is not installed for this user (403)", permanent=True)


async def plant_week(t: Transcript) -> None:
    """Rina answers her whole midpoint reflection and asks for support; Bishal and Sokha are asked
    but do not answer; Sokha has no Teams app installed; Priya's Slack id is wrong."""
    t.now = NOW
    await start(t, "rina", "midpoint")
    await t.send("rina", "all-now")
    await answer_by_key(t, "rina", RINA_MIDPOINT)
    await start(t, "bishal", "midpoint")
    await start(t, "sokha", "midpoint", drain=False)
    await Deliverer(t.engine.store, {"teams": TeamsRefuses()}).drain(t.now, person_id="sokha")
    async with t.engine.store.session() as session:
        # What the Slack adapter records when Slack answers `user_not_found`.
        priya = await session.get(Person, "priya")
        assert priya is not None
        priya.unreachable_reason = "slack: user_not_found"
        session.add(priya)


async def test_digest_lists_partnerships_rate_highlights_support_and_unreachable(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    await plant_week(t)
    digest = await build_digest(t.engine.store, "ingrid", NOW + timedelta(hours=1))

    assert [p.name for p in digest.partnerships] == list(PARTNERSHIPS)
    sahaj = digest.partnerships[1]
    assert (sahaj.asked, sahaj.answered, sahaj.response_rate) == (
        ("Bishal Thapa", "Rina Akter"),
        ("Rina Akter",),
        0.5,
    )
    assert {q.text for q in sahaj.highlights} == {RINA_MIDPOINT["achievements"], RINA_MIDPOINT["aha"]}
    assert {q.text for q in sahaj.next_steps} == {RINA_MIDPOINT["next_steps"], RINA_MIDPOINT["opportunities"]}
    assert [(r.name, r.text) for r in sahaj.support] == [("Rina Akter", "My visa needs renewing.")]
    unreachable = {u.name: u.platform for p in digest.partnerships for u in p.unreachable}
    assert unreachable == {"Priya Sharma": "slack", "Sokha Chan": "teams"}

    text = render_text(digest, translator, "en")
    for name in PARTNERSHIPS:
        assert name in text
    assert "Response rate: 50% (1 of 2)" in text
    assert "Not answered yet: Bishal Thapa" in text
    assert "share of participants asked a question in the last 7 days who answered" in text
    assert "Aha moment · Rina Akter: “Grandmothers decide what the family saves for.”" in text
    assert "Next step · Rina Akter: “Visit the Pokhara branch.”" in text
    request_id = sahaj.support[0].id
    assert f"No. {request_id} · Rina Akter" in text and "“My visa needs renewing.”" in text
    assert "Priya Sharma (slack: user_not_found). What to do: check their Slack id" in text
    assert (
        "Sokha Chan (teams: the bot is not installed for this user (403)). What to do: install the Teams app"
        in text
    )
    assert "Spring learning panel" in text and "0 of 5 presenters have prepared" in text
    assert "Rina Akter: midpoint reflection done on" in text


async def test_a_coordinator_sees_only_the_partnerships_they_follow(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    await plant_week(t)
    digest = await build_digest(t.engine.store, "farhana", NOW + timedelta(hours=1))
    assert [p.name for p in digest.partnerships] == ["Krousar Yoeung and Aspada"]
    text = render_text(digest, translator, "en")
    assert "Rina Akter" not in text and "My visa" not in text
    assert "Sokha Chan" in text
    assert digest.partnerships[0].response_rate == 0.0
    assert [p.presenters for p in digest.panels] == [("Sokha Chan", "Tanvir Hossain")]


async def test_the_digest_covers_the_last_seven_days_but_keeps_open_requests(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    await plant_week(t)
    later = await build_digest(t.engine.store, "ingrid", NOW + timedelta(days=8))
    sahaj = later.partnerships[1]
    assert sahaj.highlights == () and sahaj.next_steps == () and sahaj.response_rate is None
    assert [r.text for r in sahaj.support] == ["My visa needs renewing."]
    text = render_text(later, translator, "en")
    assert "Grandmothers" not in text
    assert "No one was asked a question in the last 7 days." in text


async def test_digest_in_norwegian_and_bengali_uses_their_catalogues(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    await plant_week(t)
    ingrid = await digest_message(t.engine.store, "ingrid", NOW + timedelta(hours=1), translator)
    assert (ingrid.person_id, ingrid.kind, ingrid.language) == ("ingrid", "digest", "nb")
    assert "Ukentlig oversikt for Ingrid Solberg" in ingrid.text
    assert "Svarprosent" in ingrid.text and "Åpne forespørsler om støtte" in ingrid.text
    assert "Response rate" not in ingrid.text and "Open support requests" not in ingrid.text
    assert "## Høydepunkter" in (ingrid.markdown or "")

    farhana = await digest_message(t.engine.store, "farhana", NOW + timedelta(hours=1), translator)
    assert farhana.language == "bn"
    assert "সাপ্তাহিক সারসংক্ষেপ" in farhana.text and "যাদের কাছে বট পৌঁছাতে পারছে না" in farhana.text
    assert "People the bot cannot reach" not in farhana.text


async def test_html_is_self_contained_and_shows_what_people_wrote_as_written(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    t.now = NOW
    await start(t, "rina", "midpoint")
    await t.send("rina", "all-now")
    await answer_by_key(
        t, "rina", {**RINA_MIDPOINT, "achievements": "<script>alert(1)</script> *bold* & more"}
    )
    digest = await build_digest(t.engine.store, "ingrid", NOW + timedelta(hours=1))

    html = render_html(digest, translator, "en")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html and "<style>" in html
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; *bold* &amp; more" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html

    markdown = render_markdown(digest, translator, "en")
    assert r"\<script\>alert(1)\</script\> \*bold\* & more" in markdown
    assert "## Aspada and Sahaj Community Hospital" in markdown


async def test_unknown_coordinator_is_refused(programme: Store) -> None:
    with pytest.raises(UnknownCoordinator):
        await build_digest(programme, "rina", NOW)


async def test_the_weekly_sweep_delivers_each_coordinator_their_digest(database_url: str) -> None:
    console = io.StringIO()
    server = await build_server(Settings(_env_file=None, database_url=database_url), console=console)  # type: ignore[call-arg]
    try:
        await import_programme(server.store, PROGRAMME)
        # Monday 5 April 2027, 08:30 in Oslo (Ingrid) and 12:30 in Dhaka (Farhana).
        await server.tick(datetime.fromisoformat("2027-04-05T06:30:00+00:00"))
        async with server.store.session() as session:
            rows = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("digest:")))
            ).all()  # type: ignore[attr-defined]
        assert sorted((r.person_id, r.status) for r in rows) == [("farhana", "sent"), ("ingrid", "sent")]
        assert "Ukentlig oversikt for Ingrid Solberg" in console.getvalue()
        assert "Farhana Begum" in console.getvalue()
    finally:
        await server.close()


def test_cli_prints_the_digest(tmp_path: Path, database_url: str) -> None:
    import asyncio

    from bot.engine import Engine
    from storage.migrate import migrate
    from tests.support import RecordingSender

    async def plant() -> None:
        store = Store(database_url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        sender = RecordingSender()
        engine = Engine(store, Translator())
        await plant_week(Transcript(engine, Deliverer(store, {"console": sender}), sender, NOW))
        await store.close()

    asyncio.run(plant())
    run = cli_runner(database_url, tmp_path)

    result = run(
        "digest", "--coordinator", "ingrid", "--format", "md", "--at", "2027-03-31T05:15", "--lang", "en"
    )
    assert result.returncode == 0, result.stderr
    assert "# Weekly digest for Ingrid Solberg" in result.stdout
    assert "Response rate: 50% (1 of 2)" in result.stdout
    result = run("digest", "--coordinator", "ingrid", "--at", "2027-03-31T05:15")
    assert result.returncode == 0 and "Svarprosent" in result.stdout
    result = run("digest", "--coordinator", "ingrid", "--format", "html", "--at", "2027-03-31T05:15")
    assert result.returncode == 0 and result.stdout.startswith("<!DOCTYPE html>")
    result = run("digest", "--coordinator", "nobody")
    assert result.returncode == 2 and "no coordinator 'nobody'" in result.stderr


async def test_a_panel_is_shown_at_its_own_time_with_its_zone_as_the_pack_shows_it(
    transcript: Transcript, translator: Translator
) -> None:
    """Ingrid lives in Europe/Oslo; the panel is at 10:00 in Dhaka (06:00 in Oslo)."""
    from bot.reports.panel_pack import build_panel_pack
    from bot.reports.panel_pack import render_text as render_pack

    t = transcript
    await plant_week(t)
    digest = await build_digest(t.engine.store, "ingrid", NOW + timedelta(hours=1))
    when = "Tuesday, April 20, 2027, 10:00 (Asia/Dhaka)"
    text = render_text(digest, translator, "en")
    assert f"Spring learning panel, {when}: 0 of 5 presenters have prepared" in text
    assert "06:00" not in text
    pack = render_pack(await build_panel_pack(t.engine.store, "spring-panel"), translator, "en")
    assert f"When: {when}" in pack
    norwegian = render_text(digest, translator, "nb")
    assert "10:00 (Asia/Dhaka): 0 av 5 presentatører har forberedt seg" in norwegian
