"""Dates as people write them: ISO (2027-04-12), day/month/year (12/04/2027, 12.04.2027), and
"12 April" or "April 12, 2027" with the month in English or in their own language, digits in
their own script included. A date without a year is its next occurrence."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

from babel.dates import format_date, get_month_names

from bot.i18n import _locale


def _ascii_digits(text: str) -> str:
    # Bengali, Devanagari and Khmer digits read as the digits they are.
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)


@cache
def _months(language: str) -> dict[str, int]:
    names: dict[str, int] = {}
    for code in ("en", language):
        locale = _locale(code)
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    names.setdefault(name.casefold().rstrip("."), number)
    return names


def _with_year(day: int, month: int, year: int | None, today: date) -> date | None:
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\.?$")
_WORDS = re.compile(r"^(?:(\d{1,2})\.?\s+(\S+?)|(\S+?)\s+(\d{1,2})(?:st|nd|rd|th)?)\.?,?(?:\s+(\d{4}))?$")


def parse_day(text: str, language: str, today: date) -> date | None:
    """The date `text` names, or None when it names none (31/04/2027 included)."""
    raw = _ascii_digits(text.strip().casefold())
    if match := _ISO.match(raw):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if match := _NUMERIC.match(raw):
        return _with_year(int(match[1]), int(match[2]), int(match[3]) if match[3] else None, today)
    if match := _WORDS.match(raw):
        day, name = (match[1], match[2]) if match[1] else (match[4], match[3])
        month = _months(language).get(name.rstrip(".,"))
        if month is None:
            return None
        return _with_year(int(day), month, int(match[5]) if match[5] else None, today)
    return None


def day_and_month(language: str, day: date) -> str:
    """A day as an example of the "12 April" form, in the person's language."""
    return format_date(day, "d MMMM", locale=_locale(language))
