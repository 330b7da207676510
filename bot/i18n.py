"""Prompts in each person's language, from gettext catalogues read with Babel.

Message ids are the English text, so English needs no catalogue, and any string a catalogue
lacks (or has marked fuzzy) falls back to English one by one.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "reflectbot"
LANGUAGES = ("en", "nb", "bn", "ne", "hi", "km")
COMMAND_PLACEHOLDER = re.compile(r"\{(cmd_[a-z_]+)\}")


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogues; it is translated when used."""
    return message


class Translator:
    def __init__(self, locale_dir: Path = LOCALES) -> None:
        self.locale_dir = locale_dir
        self._catalogs: dict[str, dict[str, str]] = {}

    def _catalog(self, language: str) -> dict[str, str]:
        if language not in self._catalogs:
            self._catalogs[language] = self._load(language)
        return self._catalogs[language]

    def _load(self, language: str) -> dict[str, str]:
        for code in (language, language.replace("-", "_").split("_")[0]):
            path = self.locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.exists():
                with path.open("rb") as fh:
                    catalog: Catalog = read_po(fh, locale=code)
                return {
                    str(m.id): str(m.string)
                    for m in catalog
                    if m.id and m.string and not m.fuzzy and isinstance(m.string, str)
                }
        return {}

    def gettext(self, language: str, message: str, **values: object) -> str:
        translated = self._translated(language, message)
        try:
            return translated.format(**self._command_words(language, translated), **values)
        except (KeyError, IndexError, ValueError):
            # A catalogue with a broken placeholder must not break the conversation.
            logger.warning("catalogue %s: placeholder mismatch, using English", language)
            return message.format(**self._command_words("en", message), **values)

    def _translated(self, language: str, message: str) -> str:
        return self._catalog(language).get(message, message) if language != "en" else message

    def _command_words(self, language: str, text: str) -> dict[str, str]:
        """A text names a command as {cmd_now}, {cmd_all_now}: each reader sees the word as it is
        written in their language, the one the bot understands from them. A command word's
        message id is the English word itself (see `bot.command_words`)."""
        if "{cmd_" not in text:
            return {}
        return {
            name: "-".join(self._translated(language, name[4:].replace("_", "-")).split())
            for name in COMMAND_PLACEHOLDER.findall(text)
        }


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_day(language: str, day: date) -> str:
    return format_date(day, format="full", locale=_locale(language))


def format_moment(language: str, moment: datetime) -> str:
    """A local datetime as a person reads it, e.g. 'Tuesday 12 January 2027, 10:00'."""
    locale = _locale(language)
    return f"{format_date(moment.date(), format='full', locale=locale)}, " + format_datetime(
        moment, format="HH:mm", locale=locale
    )
