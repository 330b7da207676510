"""Pairing over six weekly rounds, participants and colleagues in three organisations, made by
the real sweeps on a real database, introductions read as the terminal shows them."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.command_parser import Command, parse_command
from bot.delivery import Deliverer
from bot.engine import Engine
from bot.flows import BUTTON_WIDTH
from bot.i18n import LANGUAGES, Translator
from bot.introductions import DECLINE, JOIN, pairing_words
from bot.messages import Incoming, Outgoing
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.models import OutboxMessage
from storage.pairing_tables import Pair, PairingRound, PairMember
from tests.pairing_world import ROUNDS, pairing_file, round_instant
from tests.support import RecordingSender
from tests.test_prompt_texts import visible_width
from tests.transcript import Transcript

ASPADA_EXCHANGE = {"bishal", "priya", "sokha"}
ASPADA_COLLEAGUES = {"nasrin", "karim", "mitu"}


async def rounds(store: Store) -> list[list[tuple[str, ...]]]:
    """Each round's groups, as sets of member ids in stored order."""
    async with store.reading() as session:
        made = (await session.exec(select(PairingRound).order_by(PairingRound.number))).all()
        members = (await session.exec(select(PairMember).order_by(PairMember.id))).all()
        pairs = {p.id: p for p in (await session.exec(select(Pair))).all()}
    found: list[list[tuple[str, ...]]] = []
    for r in made:
        groups: dict[int, list[str]] = {}
        for m in members:
            if m.round_id == r.id:
                groups.setdefault(m.pair_id, []).append(m.person_id)
        found.append([tuple(groups[p]) for p in sorted(groups, key=lambda p: pairs[p].position)])
    return found


def introductions(sender: RecordingSender) -> list[Outgoing]:
    return [m for _, m in sender.sent if m.flow == "pairing" and m.companions]


async def test_six_rounds_over_three_organisations(store: Store, tmp_path: Path) -> None:
    await import_programme(store, pairing_file(tmp_path))
    engine = Engine(store, Translator())
    sender = RecordingSender()
    sweeps = Sweeps(engine, Deliverer(store, {"console": sender}))

    for number in range(ROUNDS):
        at = round_instant(number)
        if number == 3:
            # Before the fourth round: Mitu opts out, Priya pauses until after the fifth.
            for person, text in (("mitu", "pairing off"), ("priya", "pairing pause until 2027-03-31")):
                await engine.handle(Incoming("console", person, text=text), at - timedelta(days=1))
        await sweeps.run_all(at)
        await sweeps.run_all(at)  # the same instant ticked again makes nothing twice
        await sweeps.run_all(at + timedelta(minutes=5))

    made = await rounds(store)
    assert len(made) == ROUNDS
    met: set[frozenset[str]] = set()
    for number, groups in enumerate(made):
        people = [p for g in groups for p in g]
        assert len(people) == len(set(people)), f"round {number}: someone is in two groups"
        left_out = ({"mitu"} if number >= 3 else set()) | ({"priya"} if number in (3, 4) else set())
        assert not left_out & set(people), f"round {number}: {left_out & set(people)} paired"
        expected = (ASPADA_EXCHANGE | ASPADA_COLLEAGUES | {"rina", "dawa", "pema", "tanvir", "vanna"}) - left_out
        assert set(people) == expected, f"round {number}: nobody silently left out"
        # Sahaj: Rina with both colleagues, a trio, every round.
        assert ("rina", "dawa", "pema") in groups
        by_person = {p: g for g in groups for p in g}
        # No repeat pair while an unpaired choice existed: whenever two meet again, no one
        # new was free for either of them, and no swap with another pair gives both someone new.
        for group in groups:
            for a, b in combinations(group, 2):
                if frozenset((a, b)) not in met:
                    continue
                exchange, colleague = (a, b) if a in ASPADA_EXCHANGE | {"rina", "tanvir"} else (b, a)
                for other in groups:
                    if other is group:
                        continue
                    for e2 in other:
                        for c2 in other:
                            swap_is_new = frozenset((exchange, c2)) not in met and frozenset((e2, colleague)) not in met
                            same_org = (c2 in ASPADA_COLLEAGUES) == (colleague in ASPADA_COLLEAGUES)
                            assert not (
                                e2 != c2 and e2 in ASPADA_EXCHANGE and c2 in ASPADA_COLLEAGUES and same_org and swap_is_new
                            ), f"round {number}: {exchange} and {colleague} again while {c2} was new to them"
        if number < 3:
            aspada = [frozenset(g) for g in groups if set(g) & ASPADA_EXCHANGE]
            assert not any(frozenset(p) in met for g in aspada for p in combinations(g, 2)), (
                f"round {number}: a repeat at Aspada although 3 × 3 people allow three new rounds"
            )
        if number == 0:
            # A shared learning goal pairs first: Bishal's goal is Nasrin's interest, and
            # Sokha's is Karim's.
            assert set(by_person["bishal"]) == {"bishal", "nasrin"}
            assert set(by_person["sokha"]) == {"sokha", "karim"}
        for group in groups:
            met.update(frozenset(p) for p in combinations(group, 2))

    # One introduction per member per round, however often each instant was ticked.
    intros = introductions(sender)
    expected_count = sum(len(g) for groups in made for g in groups)
    assert len(intros) == expected_count
    assert len({(m.person_id, m.text) for m in intros}) == expected_count
    # Mitu and Priya were told nothing while left out.
    for person in ("mitu", "priya"):
        told = [m for _, m in sender.sent if m.person_id == person and m.flow == "pairing"]
        assert len(told) == sum(1 for groups in made for g in groups if person in g)

    first = next(m for m in intros if m.person_id == "bishal")
    assert "Nasrin Akhter" in first.text
    assert "Understand how a low-cost community hospital is run and financed" in first.text
    # In Bishal's language (Nepali); the group's text also in Nasrin's (English). Opt-out: the
    # first introduction says how to stop, as each one writes it.
    assert "जोडी बन्द" in first.text
    assert first.group_text is not None and "जोडी बन्द" in first.group_text
    assert "Write pairing off to stop" in first.group_text


async def test_opt_in_asks_first_and_pairs_only_those_who_said_yes(store: Store, tmp_path: Path) -> None:
    await import_programme(store, pairing_file(tmp_path, ask="opt-in"))
    engine = Engine(store, Translator())
    sender = RecordingSender()
    sweeps = Sweeps(engine, Deliverer(store, {"console": sender}))
    before = round_instant(0) - timedelta(days=6)
    await sweeps.run_all(before)
    await sweeps.run_all(before)
    invitations = [m for _, m in sender.sent if m.actions and m.actions[0].id == "pairing:on"]
    invited = Counter(m.person_id for m in invitations)
    # Everyone on exchange at a Tuesday-working organisation, and every colleague, once.
    assert set(invited) >= {"bishal", "sokha", "nasrin", "karim", "rina", "dawa"}
    assert set(invited.values()) == {1}
    nasrin = next(m for m in invitations if m.person_id == "nasrin")
    assert "Would you like to take part?" in nasrin.text and "pairing on" in nasrin.text

    for person in ("bishal", "nasrin"):
        await engine.handle(Incoming("console", person, action="pairing:on"), before)
    await engine.handle(Incoming("console", "sokha", text="pairing on"), before)
    await engine.handle(Incoming("console", "karim", action="pairing:off"), before)
    await sweeps.run_all(round_instant(0))
    made = await rounds(store)
    assert [set(g) for g in made[0]] == [{"bishal", "nasrin", "sokha"}]
    async with store.reading() as session:
        told = (await session.exec(select(OutboxMessage.person_id).where(OutboxMessage.key.startswith("pair-intro:")))).all()
    assert sorted(told) == ["bishal", "nasrin", "sokha"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_invitation_buttons_fit_a_narrow_card(language: str) -> None:
    t = Translator()
    for label in (JOIN, DECLINE):
        assert visible_width(t.gettext(language, label)) <= BUTTON_WIDTH, t.gettext(language, label)


@pytest.mark.parametrize("language", LANGUAGES)
def test_pairing_commands_in_every_language(language: str) -> None:
    words = pairing_words(language, date(2027, 4, 1))
    assert parse_command(words["on"], language=language) == Command("pairing", ("on",))
    assert parse_command(words["off"], language=language) == Command("pairing", ("off",))
    paused = parse_command(words["pause"], language=language)
    assert paused is not None and paused.args == ("pause", "2027-04-01")
    # English works whatever the language.
    assert parse_command("pairing off", language=language) == Command("pairing", ("off",))


async def test_an_import_changes_pairs_only_from_the_next_round_on(store: Store, tmp_path: Path) -> None:
    path = pairing_file(tmp_path)
    await import_programme(store, path)
    engine = Engine(store, Translator())
    sweeps = Sweeps(engine, Deliverer(store, {"console": RecordingSender()}))
    await sweeps.run_all(round_instant(0))
    first = await rounds(store)
    assert any("mitu" in g for g in first[0])
    # Mid-round, Mitu leaves the file and Karim's interest changes: the round made stays.
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["colleagues"] = [c for c in data["colleagues"] if c["id"] != "mitu"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    await import_programme(store, path)
    await sweeps.run_all(round_instant(0) + timedelta(hours=1))
    assert (await rounds(store))[0] == first[0]
    await sweeps.run_all(round_instant(1))
    second = (await rounds(store))[1]
    assert not any("mitu" in g for g in second)


async def test_pairing_commands_say_where_one_stands(store: Store, tmp_path: Path) -> None:
    await import_programme(store, pairing_file(tmp_path))  # ask: opt-out
    engine = Engine(store, Translator())
    sender = RecordingSender()
    deliverer = Deliverer(store, {"console": sender})
    now = round_instant(0)

    async def say(person: str, text: str) -> str:
        await engine.handle(Incoming("console", person, text=text), now)
        await deliverer.drain(now)
        return sender.to(person)[-1].text

    assert "You take part in pairing. Write pairing off to stop" in await say("nasrin", "pairing")
    assert "No new pair for you until Thursday, April 1, 2027" in await say("nasrin", "pairing pause until 2027-04-01")
    assert "paused for you until Thursday, April 1, 2027" in await say("nasrin", "pairing")
    assert "is not ahead of us" in await say("nasrin", "pairing pause until 2027-03-01")
    # Karim writes Bengali: his own words work, and he is answered in them.
    assert "জুটি চালু" in await say("karim", "জুটি বন্ধ")
    assert "You do not take part" not in await say("karim", "pairing")


async def test_pairing_in_a_programme_without_it(engine: Engine, transcript: Transcript) -> None:
    await transcript.send("tanvir", "pairing off")
    transcript.expect("tanvir", "pairs no one at the moment")


async def test_returned_participants_are_paired_at_home_and_nobody_before_their_exchange(
    store: Store, tmp_path: Path
) -> None:
    from bot.pairing_rounds import RoundTime, plan_round
    from storage.pairs import all_settings

    await import_programme(store, pairing_file(tmp_path, who="both", until="2027-12-31", returned_within_days=30))
    async with store.reading() as session:
        settings = (await all_settings(session))[0]
        # Tuesday 6 July: Rina (home Aspada) and Bishal (home Sahaj) are back; Priya came home
        # to Pahal more than 30 days ago; Sokha and Tanvir are still on exchange.
        _pool, groups, unpaired = await plan_round(session, settings, RoundTime(18, date(2027, 7, 6)))
        by_person = {p: g.members for g in groups for p in g.members}
        assert set(by_person["rina"]) & ASPADA_COLLEAGUES
        assert set(by_person["bishal"]) & {"dawa", "pema"}
        assert "priya" not in by_person and "priya" not in unpaired
        assert {"sokha", "tanvir"} <= set(by_person)
        # 5 January: only Rina's exchange has begun (Bishal's begins on the 11th).
        _pool, groups, unpaired = await plan_round(session, settings, RoundTime(0, date(2027, 1, 5)))
        paired = {p for g in groups for p in g.members}
        assert "rina" in paired and not {"bishal", "priya", "sokha", "tanvir"} & paired


async def test_export_holds_ones_pairs_and_forgetting_removes_them(store: Store, tmp_path: Path) -> None:
    from bot.privacy import export_person, forget_person

    path = pairing_file(tmp_path)
    await import_programme(store, path)
    engine = Engine(store, Translator())
    sweeps = Sweeps(engine, Deliverer(store, {"console": RecordingSender()}))
    await sweeps.run_all(round_instant(0))
    await engine.handle(Incoming("console", "nasrin", text="pairing pause until 2027-03-20"), round_instant(0))

    bishal = (await export_person(store, "bishal"))["pairing"]
    assert bishal["rounds"] == [
        {"round": 1, "day": "2027-03-02", "with": ["Nasrin Akhter"], "reason": "goal",
         "learning_goal": "community-hospital-model"}
    ]
    nasrin = (await export_person(store, "nasrin"))["pairing"]
    assert nasrin["interests"] == ["community-hospital-model"]
    assert nasrin["paused_until"] == "2027-03-20"
    assert [r["with"] for r in nasrin["rounds"]] == [["Bishal Thapa"]]

    counts = await forget_person(store, "nasrin")
    assert (counts["pairings"], counts["pairing_choice"], counts["interests"]) == (1, 1, 1)
    # Bishal's round no longer says whom he met; nothing of Nasrin comes back with the file.
    assert (await export_person(store, "bishal"))["pairing"]["rounds"][0]["with"] == []
    await import_programme(store, path)
    assert (await export_person(store, "nasrin"))["pairing"] == {
        "choice": None, "paused_until": None, "interests": [], "rounds": []
    }
    await sweeps.run_all(round_instant(1))
    assert not any("nasrin" in g for g in (await rounds(store))[1])


def test_a_crowd_of_colleagues_takes_turns_in_trios_instead_of_one_big_group() -> None:
    from bot.pairing import Candidate, make_groups

    def person(pid: str, side: str) -> Candidate:
        return Candidate(pid, side, "aspada", frozenset(), 0)  # type: ignore[arg-type]

    people = [person("bishal", "exchange"), *(person(f"colleague{i}", "colleague") for i in range(5))]
    met: set[frozenset[str]] = set()
    seen: set[str] = set()
    for _round in range(3):
        groups, waiting = make_groups(people, met)
        assert [len(g.members) for g in groups] == [3]
        assert len(waiting) == 3 and "bishal" not in waiting
        members = set(groups[0].members)
        seen |= members
        met |= {frozenset((a, b)) for a in members for b in members if a != b}
    # In three rounds Bishal met all five colleagues: who waited came first next time.
    assert seen == {"bishal", *(f"colleague{i}" for i in range(5))}
