"""The check-in some working days after an introduction, answered as people answer it, and what
it feeds: the coordinator's digest (met or not, what was noticed), the panel pack (only what was
consented), the outcome report (pairs that met per partnership, quotes next to their goal)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.messages import Incoming
from bot.reports.digest import build_digest, render_text
from bot.reports.outcome_report import render_text as outcome_text
from bot.reports.outcomes import build_outcomes
from bot.reports.panel_pack import build_panel_pack
from bot.reports.panel_pack import render_text as pack_text
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from tests.pairing_world import pairing_file, round_instant
from tests.support import RecordingSender

BISHAL_NOTICED = "Nasrin writes the week's plan on the wall and everyone changes it."
BISHAL_SHARED = "A plan on the wall makes a team argue less."
NASRIN_NOTICED = "Bishal asks the patients before he asks the doctors."
NASRIN_SHARED = "Ask the patients first."
HOSPITAL_GOAL = "Understand how a low-cost community hospital is run and financed"


async def test_check_in_answers_feed_the_digest_the_panel_pack_and_the_outcome_report(
    store: Store, tmp_path: Path
) -> None:
    await import_programme(store, pairing_file(tmp_path))
    engine = Engine(store, Translator())
    sender = RecordingSender()
    deliverer = Deliverer(store, {"console": sender})
    sweeps = Sweeps(engine, deliverer)
    at = round_instant(0)
    for day in range(7):  # the round's first day, then each day until the check-ins are due
        await sweeps.run_all(at + timedelta(days=day))
    # Monday 8 March, 10:30 in Dhaka: Aspada's third working day after the introduction (Sunday
    # the 7th is a public holiday in Bangladesh).
    now = at + timedelta(days=6)

    def asked(person: str) -> str:
        questions = [m for m in sender.to(person) if m.kind == "question"]
        assert questions, f"{person} was asked nothing"
        return questions[-1].text

    async def say(person: str, text: str) -> None:
        await engine.handle(Incoming("console", person, text=text), now)
        await deliverer.drain(now)

    assert "Nasrin Akhter" in asked("bishal")  # “Did you and Nasrin Akhter meet?”, in Nepali
    for person, noticed, shared, consent in (
        ("bishal", BISHAL_NOTICED, BISHAL_SHARED, "1"),  # named
        ("nasrin", NASRIN_NOTICED, NASRIN_SHARED, "2"),  # anonymous: too few to hide a name
    ):
        await say(person, "1")  # yes, we met
        await say(person, noticed)
        await say(person, shared)
        await say(person, consent)
    await say("sokha", "2")  # not yet
    await say("karim", "3")  # no
    assert "Thank you! Your coordinators see whether you met" in sender.to("nasrin")[-1].text

    digest = render_text(await build_digest(store, "ingrid", now + timedelta(hours=1)), Translator(), "en")
    assert "Pairs this round" in digest
    assert f"Bishal Thapa · Nasrin Akhter (learning goal “{HOSPITAL_GOAL}”): met" in digest
    assert "Sokha Chan · Karim Uddin" in digest and "not met yet" in digest
    assert f"Bishal Thapa noticed: “{BISHAL_NOTICED}”" in digest
    assert f"Nasrin Akhter noticed: “{NASRIN_NOTICED}”" in digest

    pack = pack_text(await build_panel_pack(store, "spring-panel"), Translator(), "en")
    assert "From pairing with colleagues" in pack
    assert BISHAL_SHARED in pack and "Bishal Thapa" in pack
    # Nasrin shared anonymously, and only two people shared anything: left out, not exposed.
    assert NASRIN_SHARED not in pack
    # What was noticed went to the coordinators only, never to the panel.
    assert BISHAL_NOTICED not in pack and NASRIN_NOTICED not in pack

    report = outcome_text(await build_outcomes(store), Translator(), "en")
    assert "Pairing with colleagues" in report
    assert "Aspada and Sahaj Community Hospital: 1 of 2 pairs met" in report  # Bishal's met, Rina's trio not
    assert "Krousar Yoeung and Aspada: 0 of 2 pairs met" in report  # Sokha's and Tanvir's
    assert f"Learning goal: {HOSPITAL_GOAL}" in report
    assert f"Bishal Thapa: “{BISHAL_SHARED}”" in report
    assert NASRIN_SHARED not in report and BISHAL_NOTICED not in report
