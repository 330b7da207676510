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
