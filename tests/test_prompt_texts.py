"""Prompts that say what they ask about, with buttons that fit a narrow card in every language."""

from __future__ import annotations

import unicodedata

import pytest

from bot.flows import BUTTON_WIDTH, FLOWS
from bot.i18n import LANGUAGES, Translator
from bot.plan import plan_for
from storage.models import Person
from tests.transcript import Transcript

AHA = "Grandmothers decide what children eat."


def visible_width(text: str) -> int:
    """Characters as they take room on screen: combining vowel signs and joiners take none."""
    return sum(1 for ch in text if not unicodedata.category(ch).startswith(("M", "Cf")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_button_label_fits_a_narrow_card(language: str) -> None:
    t = Translator()
    too_long = [
        (spec.key, t.gettext(language, label))
        for flow in FLOWS.values()
        for spec in flow.questions
        for _value, label in spec.choices
        if visible_width(t.gettext(language, label)) > BUTTON_WIDTH
    ]
    assert too_long == []


async def test_the_consent_question_quotes_the_aha_moment_it_asks_about(transcript: Transcript) -> None:
    t = transcript
    async with t.engine.store.session() as session:
        person = await session.get(Person, "tanvir")
        assert person is not None
        planned = next(p for p in await plan_for(session, person) if p.flow == "panel-prep")
    t.now = planned.due_at
    await t.start("tanvir", "panel-prep")
    t.unread("tanvir")
    await t.send("tanvir", AHA)
    consent = t.unread("tanvir")[-1]
    assert consent.kind == "question" and f"You wrote: “{AHA}”" in consent.text
    assert "May the panel hear this?" in consent.text


async def test_texts_name_commands_in_the_persons_language_and_those_words_work(
    transcript: Transcript,
) -> None:
    """Rina reads Bengali: the hint under a question and the midpoint's opening name `skip`,
    `help` and `all-now` as Bengali words, and writing the Bengali word does what it says."""
    t = transcript
    tr = Translator()
    skip, help_, all_now = (tr.gettext("bn", w) for w in ("skip", "help", "all-now"))
    assert skip != "skip" and help_ != "help", "the Bengali catalogue should have its own command words"
    async with t.engine.store.session() as session:
        person = await session.get(Person, "rina")
        assert person is not None
        t.now = next(p for p in await plan_for(session, person) if p.flow == "midpoint").due_at
    await t.start("rina", "midpoint")
    opening, first = t.unread("rina")[-2:]
    assert skip in opening.text and help_ in opening.text and "-".join(all_now.split()) in opening.text
    assert first.kind == "question" and first.hint is not None
    assert f"{skip}:" in first.hint and f"{help_}:" in first.hint
    assert "skip" not in first.hint and "help" not in first.hint

    await t.send("rina", skip)
    after = t.unread("rina")
    assert after[-1].kind == "question" and after[-1].question_id != first.question_id


async def test_the_support_follow_up_says_which_answer_it_follows(transcript: Transcript) -> None:
    t = transcript
    async with t.engine.store.session() as session:
        person = await session.get(Person, "tanvir")
        assert person is not None
        t.now = next(p for p in await plan_for(session, person) if p.flow == "midpoint").due_at
    await t.start("tanvir", "midpoint")
    await t.send("tanvir", "all-now")
    for _ in range(12):
        last = t.unread("tanvir")[-1]
        if "Do you need support" in last.text:
            break
        await t.send("tanvir", "2" if last.choices else "Mothers' groups meet under the tree.")
    else:
        raise AssertionError("the support question never came")
    await t.send("tanvir", "2")
    follow_up = t.unread("tanvir")[-1]
    assert follow_up.kind == "question"
    assert follow_up.text.startswith("You chose: “Yes, contact me”")
    assert "What would you like your coordinator to know?" in follow_up.text
