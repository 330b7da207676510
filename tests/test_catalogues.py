"""Translations: every catalogue keeps the English placeholders, and gaps fall back to English."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import LANGUAGES, LOCALES, Translator
from storage.db import Store
from tests.conftest import copy_locales
from tests.support import RecordingSender
from tests.transcript import Transcript

PLACEHOLDER = re.compile(r"\{(\w*)\}")
TEMPLATE = LOCALES / "reflectbot.pot"


def _catalogue(language: str):
    with (LOCALES / language / "LC_MESSAGES" / "reflectbot.po").open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_catalogue_placeholders_match_english(language: str) -> None:
    mismatches = [
        (m.id, m.string)
        for m in _catalogue(language)
        if m.id and m.string and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert mismatches == []


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
