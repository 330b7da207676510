"""Translations: every catalogue keeps the English placeholders, and gaps fall back to English."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import LANGUAGES, LOCALES, NP_, Translator
from storage.db import Store
from tests.conftest import copy_locales
from tests.support import RecordingSender
from tests.transcript import Transcript

PLACEHOLDER = re.compile(r"\{(\w*)\}")
TEMPLATE = LOCALES / "reflectbot.pot"


def _catalogue(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "reflectbot.po").open("rb") as fh:
        return read_po(fh)


def _pairs(message) -> list[tuple[str, str]]:
    """(English, translation) for each text of an entry; every plural form against msgid_plural,
    which names the same placeholders as msgid."""
    if isinstance(message.id, str):
        return [(message.id, message.string)] if message.string else []
    return [(message.id[1], form) for form in message.string if form]


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_placeholders_match_english(language: str) -> None:
    mismatches = [
        (english, translated)
        for m in _catalogue(language)
        if m.id
        for english, translated in _pairs(m)
        if sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(translated))
    ]
    assert mismatches == []


def test_template_plurals_name_the_same_placeholders_in_both_forms() -> None:
    with TEMPLATE.open("rb") as fh:
        plurals = [m.id for m in read_po(fh) if m.id and not isinstance(m.id, str)]
    assert plurals, "the template has plural entries (NP_)"
    assert [
        p for p in plurals if sorted(PLACEHOLDER.findall(p[0])) != sorted(PLACEHOLDER.findall(p[1]))
    ] == []


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_plural_entry_has_each_of_the_languages_forms(language: str) -> None:
    catalogue = _catalogue(language)
    expected = {"km": 1}.get(language, 2)  # Khmer says "3 questions" as it says "1 question"
    assert catalogue.num_plurals == expected
    plurals = [m for m in catalogue if m.id and not isinstance(m.id, str)]
    assert plurals
    gaps = [m.id[0] for m in plurals if len(m.string) != expected or not all(m.string)]
    assert gaps == [], "translate every msgstr[N] of these"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_covers_the_template(language: str) -> None:
    with TEMPLATE.open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    catalogue = {m.id for m in _catalogue(language) if m.id}
    assert template - catalogue == set(), "run `make catalogs` after changing texts"


def test_a_mismatched_placeholder_is_caught_and_falls_back_to_english(tmp_path: Path) -> None:
    locales = copy_locales(tmp_path)
    path = locales / "bn" / "LC_MESSAGES" / "reflectbot.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    message = "Paused until {date}. Write {cmd_resume} to continue earlier."
    catalogue[message].string = "বিরতি {তারিখ}"
    with path.open("wb") as fh:
        write_po(fh, catalogue)
    text = Translator(locales).gettext("bn", message, date="1 March")
    assert text == "Paused until 1 March. Write resume to continue earlier."


async def test_missing_translation_falls_back_to_english_string_by_string(
    programme: Store, tmp_path: Path
) -> None:
    locales = copy_locales(tmp_path)
    path = locales / "bn" / "LC_MESSAGES" / "reflectbot.po"
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    observed = "What have you observed at {host} that surprised you, or that works differently from home?"
    assert catalogue[observed].string, "the Bengali catalogue should translate this question"
    del catalogue[observed]
    with path.open("wb") as fh:
        write_po(fh, catalogue)

    sender = RecordingSender()
    engine = Engine(programme, Translator(locales))
    t = Transcript(
        engine,
        Deliverer(programme, {"console": sender}),
        sender,
        datetime.fromisoformat("2027-03-31T04:15:00+00:00"),
    )
    await t.start("rina", "midpoint")
    intro = t.expect("rina")
    assert any("\u0980" <= ch <= "\u09ff" for ch in intro.text)  # still Bengali
    question = t.expect_question("rina", "What have you observed at Sahaj Community Hospital")
    assert question.progress_label and any("\u0980" <= ch <= "\u09ff" for ch in question.progress_label)


PANELS = NP_("{count} panel", "{count} panels")


def _with_plural_entry(tmp_path: Path, forms: dict[str, tuple[str, ...]]) -> Translator:
    """The real catalogues, plus one plural entry translated as `forms` says."""
    locales = copy_locales(tmp_path)
    for language, strings in forms.items():
        path = locales / language / "LC_MESSAGES" / "reflectbot.po"
        with path.open("rb") as fh:
            catalogue = read_po(fh)
        catalogue.add((PANELS.singular, PANELS.plural), strings)
        with path.open("wb") as fh:
            write_po(fh, catalogue)
    return Translator(locales)


def test_counts_take_each_languages_plural_form(tmp_path: Path) -> None:
    translator = _with_plural_entry(
        tmp_path,
        {"nb": ("{count} panel", "{count} paneler"), "km": ("វេទិកា {count}",), "bn": ("{count}টি প্যানেল", "")},
    )
    english = [translator.ngettext("en", PANELS, n, count=n) for n in (0, 1, 2)]
    assert english == ["0 panels", "1 panel", "2 panels"]
    assert [translator.ngettext("nb", PANELS, n, count=n) for n in (1, 2)] == ["1 panel", "2 paneler"]
    assert [translator.gettext("km", PANELS, count=n) for n in (1, 5)] == ["វេទិកា 1", "វេទិកា 5"]
    # A plural entry missing a form is not used: English rather than a count that reads wrong.
    assert translator.ngettext("bn", PANELS, 2, count=2) == "2 panels"


def test_a_real_plural_entry_reads_right_in_english_and_norwegian(translator: Translator) -> None:
    from adapters.slack.texts import HOME_MORE_ANSWERS

    assert translator.gettext("en", HOME_MORE_ANSWERS, count=1).startswith("… and 1 earlier answer:")
    assert translator.gettext("en", HOME_MORE_ANSWERS, count=4).startswith("… and 4 earlier answers:")
    line = NP_(
        "{title}, {when}: {prepared} of {total} presenter has prepared",
        "{title}, {when}: {prepared} of {total} presenters have prepared",
        "total",
    )
    values = {"title": "Panel", "when": "10:00", "prepared": 0}
    assert (
        translator.gettext("nb", line, total=1, **values)
        == "Panel, 10:00: 0 av 1 presentatør har forberedt seg"
    )
    assert (
        translator.gettext("nb", line, total=3, **values)
        == "Panel, 10:00: 0 av 3 presentatører har forberedt seg"
    )
    assert translator.gettext("en", line, total=1, **values) == "Panel, 10:00: 0 of 1 presenter has prepared"
