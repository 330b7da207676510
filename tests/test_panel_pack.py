"""The panel pack: exactly the consented items of the panel's presenters, anonymous ones without a
name and never in a group small enough to point to one person."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.reports.panel_pack import (
    UnknownPanel,
    build_panel_pack,
    panel_pack_messages,
    render_html,
    render_markdown,
    render_text,
)
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.outbox import enqueue
from tests.conftest import PROGRAMME
from tests.support import RecordingSender, cli_runner
from tests.test_digest import NOW, answer_by_key, start
from tests.transcript import Transcript

NAMED, ANONYMOUS, PRIVATE = "1", "2", "3"
PRESENTERS = ("Rina Akter", "Bishal Thapa", "Priya Sharma", "Sokha Chan", "Tanvir Hossain", "Dara Sok")
# The sample programme with a third presenter from Krousar Yoeung and Aspada, and a second, small
# panel of two presenters whose anonymous items must not appear at all.
DARA = """  - id: dara
    name: Dara Sok
    partnership: kry-aspada
    home: kry
    host: aspada
    start: 2027-01-18
    end: 2027-08-13
    timezone: Asia/Dhaka
    language: km
    teams: 5b7d9f1e-3a5c-4e6f-8b0d-2c4e6a8f0b35
    learning_goals: [family-practices]

"""
SMALL_PANEL = """
  - id: small-panel
    title: Small learning circle
    at: 2027-05-10T10:00
    timezone: Asia/Dhaka
    place: Online
    presenters: [rina, bishal]
    audience:
      teams_channel: "19:circle@thread.tacv2"
"""


def panel_prep(
    aha: tuple[str, str] | None = None, *more: tuple[str, str] | None, **rest: tuple[str, str]
) -> dict[str, str]:
    """Answers to a panel preparation: (text, consent) per item; an item left out is skipped."""
    items = {"aha_1": aha, "aha_2": more[0] if more else None, "aha_3": more[1] if len(more) > 1 else None}
    items.update({k: rest.get(k) for k in ("takeaway", "discussion")})
    answers = {}
    for key, item in items.items():
        if item is None:
            answers[key] = "skip"
        else:
            answers[key], answers[f"{key}_consent"] = item
    return answers


def midpoint(aha: str, consent: str) -> dict[str, str]:
    return {"aha": aha, "aha_consent": consent, "support": "1"}


@pytest.fixture
async def variant(store: Store, tmp_path: Path) -> Store:
    text = PROGRAMME.read_text(encoding="utf-8")
    text = text.replace("# Permanent staff", DARA + "# Permanent staff", 1)
    text = text.replace(
        "presenters: [rina, bishal, priya, sokha, tanvir]",
        "presenters: [rina, bishal, priya, sokha, tanvir, dara]",
    )
    path = tmp_path / "programme.yaml"
    path.write_text(text + SMALL_PANEL, encoding="utf-8")
    await import_programme(store, path)
    return store


@pytest.fixture
def t(variant: Store, translator: Translator) -> Transcript:
    sender = RecordingSender()
    return Transcript(Engine(variant, translator), Deliverer(variant, {"console": sender}), sender, NOW)


async def run(t: Transcript, person: str, flow: str, answers: dict[str, str], key: str | None = None) -> None:
    await start(t, person, flow, key)
    if flow == "midpoint":
        await t.send(person, "all-now")
    await answer_by_key(t, person, answers, default="skip")


async def plant(t: Transcript) -> None:
    await run(t, "rina", "midpoint", midpoint("Rina midpoint, named", NAMED))
    await run(
        t,
        "rina",
        "panel-prep",
        panel_prep(
            ("Rina spring one, named", NAMED),
            ("Rina spring two, anonymous", ANONYMOUS),
            ("Rina spring three, private", PRIVATE),
            takeaway=("Rina takeaway, named", NAMED),
            discussion=("Rina discussion, anonymous", ANONYMOUS),
        ),
        key="panel-prep:spring-panel:rina",
    )
    await run(
        t,
        "rina",
        "panel-prep",
        panel_prep(("Rina small circle, named", NAMED), ("Rina small circle, anonymous", ANONYMOUS)),
        key="panel-prep:small-panel:rina",
    )
    await run(
        t,
        "bishal",
        "panel-prep",
        panel_prep(
            ("Bishal spring one, private", PRIVATE),
            takeaway=("Bishal takeaway, anonymous", ANONYMOUS),
            discussion=("Bishal discussion, named", NAMED),
        ),
        key="panel-prep:spring-panel:bishal",
    )
    await run(t, "priya", "midpoint", midpoint("Priya midpoint, private", PRIVATE))
    await run(t, "tanvir", "midpoint", midpoint("Tanvir midpoint, anonymous", ANONYMOUS))
    await run(
        t,
        "sokha",
        "panel-prep",
        panel_prep(("Sokha spring, anonymous", ANONYMOUS)),
        key="panel-prep:spring-panel:sokha",
    )
    await run(
        t,
        "dara",
        "panel-prep",
        panel_prep(("Dara spring, anonymous", ANONYMOUS), ("Dara spring, named", NAMED)),
        key="panel-prep:spring-panel:dara",
    )


def lines_with(text: str, fragment: str) -> list[str]:
    """The lines (or HTML list items) that show the fragment."""
    return [line for line in text.replace("</li>", "\n").splitlines() if fragment in line]


async def test_the_pack_holds_exactly_the_consented_items_and_anonymous_ones_carry_no_name(
    t: Transcript, translator: Translator
) -> None:
    await plant(t)
    pack = await build_panel_pack(t.engine.store, "spring-panel")

    assert {(i.kind, i.text, i.name) for i in pack.items()} == {
        ("aha", "Rina midpoint, named", "Rina Akter"),
        ("aha", "Rina spring one, named", "Rina Akter"),
        ("aha", "Rina spring two, anonymous", None),
        ("takeaway", "Rina takeaway, named", "Rina Akter"),
        ("discussion", "Rina discussion, anonymous", None),
        ("takeaway", "Bishal takeaway, anonymous", None),
        ("discussion", "Bishal discussion, named", "Bishal Thapa"),
        ("aha", "Tanvir midpoint, anonymous", None),
        ("aha", "Sokha spring, anonymous", None),
        ("aha", "Dara spring, anonymous", None),
        ("aha", "Dara spring, named", "Dara Sok"),
    }
    assert [p.name for p in pack.presenters] == list(PRESENTERS)

    # Krousar Yoeung and Aspada has three presenters: its anonymous items may stay with it.
    # Aspada and Sahaj has two: theirs go to the ungrouped section.
    groups = {g.name: g for g in pack.partnerships}
    assert {i.text for i in groups["Krousar Yoeung and Aspada"].anonymous} == {
        "Tanvir midpoint, anonymous",
        "Sokha spring, anonymous",
        "Dara spring, anonymous",
    }
    assert (
        "Aspada and Sahaj Community Hospital" in groups
        and groups["Aspada and Sahaj Community Hospital"].anonymous == ()
    )
    assert {i.text for i in pack.anonymous} == {"Rina spring two, anonymous", "Bishal takeaway, anonymous"}
    sahaj_goals = {g.goals for g in groups["Aspada and Sahaj Community Hospital"].by_goal}
    assert sahaj_goals == {("Form self-reliance groups that help women save money for healthcare costs",)}

    for render in (render_markdown, render_html, render_text):
        out = render(pack, translator, "en")
        for left_out in ("private", "Rina small circle", "Patients", "Priya midpoint"):
            assert left_out not in out, (render.__name__, left_out)
        for item in pack.items():
            assert item.text in out
            if item.name is None:
                for line in lines_with(out, item.text):
                    assert not any(name in line for name in PRESENTERS), line
    markdown = render_markdown(pack, translator, "en")
    assert "# Spring learning panel" in markdown
    assert "When: Tuesday, April 20, 2027, 10:00 (Asia/Dhaka)" in markdown
    assert "Where: Aspada head office, Dhaka, and online" in markdown
    assert "Aha moment · Rina Akter: “Rina spring one, named”" in markdown
    assert "“Bishal discussion, named” (Bishal Thapa)" in markdown


async def test_a_panel_of_two_leaves_anonymous_items_out(t: Transcript, translator: Translator) -> None:
    await plant(t)
    pack = await build_panel_pack(t.engine.store, "small-panel")
    assert {(i.text, i.name) for i in pack.items()} == {
        ("Rina small circle, named", "Rina Akter"),
        ("Rina midpoint, named", "Rina Akter"),
    }
    assert "Rina small circle, anonymous" not in render_markdown(pack, translator, "en")


async def test_changing_consent_later_changes_the_pack(t: Transcript) -> None:
    await run(t, "rina", "midpoint", midpoint("Rina midpoint aha", NAMED))
    assert [i.name for i in (await build_panel_pack(t.engine.store, "spring-panel")).items()] == [
        "Rina Akter"
    ]
    await t.send("rina", "consent 1 private")
    assert (await build_panel_pack(t.engine.store, "spring-panel")).items() == []


async def test_the_pack_in_bengali_uses_the_bengali_catalogue(
    programme: Store, transcript: Transcript, translator: Translator
) -> None:
    transcript.now = NOW
    await run(transcript, "rina", "midpoint", midpoint("Grandmothers decide.", NAMED))
    pack = await build_panel_pack(programme, "spring-panel")
    bengali = render_markdown(pack, translator, "bn")
    assert "## উপস্থাপকগণ" in bengali and "## আলোচনার প্রশ্ন" in bengali
    assert "Presenters" not in bengali and "Questions for discussion" not in bengali
    assert "“Grandmothers decide.”" in bengali
    norwegian = render_html(pack, translator, "nb")
    assert '<html lang="nb">' in norwegian and "<h2>Presentatører</h2>" in norwegian


async def test_the_pack_is_posted_to_the_audience_channel(t: Transcript, translator: Translator) -> None:
    await plant(t)
    spring = await panel_pack_messages(t.engine.store, "spring-panel", translator)
    small = await panel_pack_messages(t.engine.store, "small-panel", translator)
    assert [c for c, _ in spring] == ["slack:C0PANEL001"]
    assert [c for c, _ in small] == ["teams:19:circle@thread.tacv2"]
    channel, message = spring[0]
    assert message.kind == "panel-pack" and message.language == "en"
    assert "Rina spring one, named" in message.text and "private" not in message.text

    slack = RecordingSender(platform="slack")
    async with t.engine.store.session() as session:
        await enqueue(
            session,
            key=f"panel-pack:spring-panel:{channel}",
            person_id=None,
            channel=channel,
            payload=message.to_json(),
            now=t.now,
        )
    await Deliverer(t.engine.store, {"slack": slack}).drain(t.now)
    [(delivery, posted)] = slack.sent
    assert (delivery.platform, delivery.address) == ("slack", "C0PANEL001")
    assert posted.text == message.text


async def test_the_sweep_posts_the_pack_the_day_before_the_panel(t: Transcript) -> None:
    from datetime import datetime

    await plant(t)
    slack = RecordingSender(platform="slack")
    runner = Sweeps(t.engine, Deliverer(t.engine.store, {"slack": slack}))

    def posts() -> list[str]:
        return [m.text for d, m in slack.sent if d.address == "C0PANEL001"]

    # The panel is at 10:00 in Dhaka on 20 April (04:00 UTC); the pack goes out the day before.
    await runner.run_all(datetime.fromisoformat("2027-04-18T04:00:00+00:00"))
    assert posts() == []
    report = await runner.run_all(datetime.fromisoformat("2027-04-19T05:00:00+00:00"))
    assert report.panel_packs == 1
    [post] = posts()
    assert "Dara spring, named" in post and "private" not in post


async def test_unknown_panel_is_refused(programme: Store) -> None:
    with pytest.raises(UnknownPanel):
        await build_panel_pack(programme, "no-such-panel")


def test_cli_writes_the_pack(tmp_path: Path, database_url: str) -> None:
    import asyncio

    async def plant_one() -> None:
        store = Store(database_url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        sender = RecordingSender()
        transcript = Transcript(
            Engine(store, Translator()), Deliverer(store, {"console": sender}), sender, NOW
        )
        await run(transcript, "rina", "midpoint", midpoint("Grandmothers <decide> & save.", NAMED))
        await store.close()

    asyncio.run(plant_one())
    cli = cli_runner(database_url, tmp_path)

    result = cli("panel-pack", "spring-panel")
    assert result.returncode == 0, result.stderr
    assert "# Spring learning panel" in result.stdout and r"Grandmothers \<decide\> & save." in result.stdout
    result = cli("panel-pack", "spring-panel", "--format", "html", "--lang", "nb", "--out", "pack.html")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in html and "Grandmothers &lt;decide&gt; &amp; save." in html
    assert "https://" not in html and "<link" not in html and "<script" not in html
    result = cli("panel-pack", "nope")
    assert result.returncode == 2 and "no panel 'nope'" in result.stderr
    result = cli("panel-pack", "spring-panel", "--lang", "xx")
    assert result.returncode != 0
