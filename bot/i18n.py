"""Prompts in each person's language, from gettext catalogues read with Babel.

Message ids are the English text, so English needs no catalogue, and any string a catalogue
lacks (or has marked fuzzy) falls back to English one by one.
"""

from __future__ import annotations

import gettext
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

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


class Plural(NamedTuple):
    """A count-dependent text: its English singular and plural (the catalogues' msgid and
    msgid_plural); each language picks its own form for the count (`Translator.ngettext`).
    `counted` names the placeholder that holds the count, so `gettext` can pick the form too."""

    singular: str
    plural: str
    counted: str = "count"


def NP_(singular: str, plural: str, counted: str = "count") -> Plural:
    """Mark a count-dependent text for extraction (msgid and msgid_plural); see `Plural`."""
    return Plural(singular, plural, counted)


def _english_form(n: int) -> int:
    """English's form for a count (msgid or msgid_plural), by Babel's (CLDR's) rule."""
    return 0 if _locale("en").plural_form(n) == "one" else 1


def english_count(n: int, singular: str, plural: str) -> str:
    """A count in a text that stays English (the command line's summaries): "1 panel", "2 panels"."""
    return f"{n} {singular if _english_form(n) == 0 else plural}"


@dataclass(frozen=True)
class _Catalogue:
    messages: dict[str, str] = field(default_factory=dict)
    plurals: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # The catalogue's Plural-Forms: the index of the form to use for a count.
    form: Callable[[int], int] = _english_form


class Translator:
    def __init__(self, locale_dir: Path = LOCALES) -> None:
        self.locale_dir = locale_dir
        self._catalogs: dict[str, _Catalogue] = {}

    def _catalog(self, language: str) -> _Catalogue:
        if language not in self._catalogs:
            self._catalogs[language] = self._load(language)
        return self._catalogs[language]

    def _load(self, language: str) -> _Catalogue:
        for code in (language, language.replace("-", "_").split("_")[0]):
            path = self.locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.exists():
                with path.open("rb") as fh:
                    catalog: Catalog = read_po(fh, locale=code)
                messages: dict[str, str] = {}
                plurals: dict[tuple[str, str], tuple[str, ...]] = {}
                for m in catalog:
                    if not m.id or not m.string or m.fuzzy:
                        continue
                    if isinstance(m.id, str) and isinstance(m.string, str):
                        messages[m.id] = m.string
                    elif not isinstance(m.id, str) and not isinstance(m.string, str):
                        forms = tuple(str(s) for s in m.string)
                        # A plural entry missing any form is not used at all: English is better
                        # than a count that reads wrong.
                        if len(forms) == catalog.num_plurals and all(forms):
                            plurals[str(m.id[0]), str(m.id[1])] = forms
                return _Catalogue(messages, plurals, gettext.c2py(catalog.plural_expr))
        return _Catalogue()

    def gettext(self, language: str, message: str | Plural, **values: object) -> str:
        if isinstance(message, Plural):
            count = values[message.counted]
            assert isinstance(count, int), f"{message.counted} counts"
            return self.ngettext(language, message, count, **values)
        return self._format(language, self._translated(language, message), message, values)

    def ngettext(self, language: str, message: Plural, n: int, **values: object) -> str:
        """The form of `message` that `language` uses for the count `n` (e.g. "1 panel",
        "2 panels"; Khmer has one form for every count), with `values` filled in."""
        english = message.singular if _english_form(n) == 0 else message.plural
        translated = english
        if language != "en":
            catalogue = self._catalog(language)
            forms = catalogue.plurals.get((message.singular, message.plural))
            if forms is not None:
                index = catalogue.form(n)
                translated = forms[index] if 0 <= index < len(forms) else english
        return self._format(language, translated, english, values)

    def _format(self, language: str, translated: str, english: str, values: dict[str, object]) -> str:
        try:
            return translated.format(**self._command_words(language, translated), **values)
        except (KeyError, IndexError, ValueError):
            # A catalogue with a broken placeholder must not break the conversation.
            logger.warning("catalogue %s: placeholder mismatch, using English", language)
            return english.format(**self._command_words("en", english), **values)

    def _translated(self, language: str, message: str) -> str:
        return self._catalog(language).messages.get(message, message) if language != "en" else message

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
