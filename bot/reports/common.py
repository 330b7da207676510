"""What the reports share: reading languages and time zones, percentages, short quotes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_percent

from bot.i18n import N_, Translator, _locale, format_moment
from storage.models import Person, Programme


def language_of(person: Person | None, programme: Programme) -> str:
    return (person.language if person else None) or programme.language


def local_moment(language: str, moment: datetime, timezone: str) -> str:
    return format_moment(language, moment.astimezone(ZoneInfo(timezone)))


def zoned_moment(translator: Translator, language: str, moment: datetime, timezone: str) -> str:
    """A moment in a place's own time with its zone named, e.g. 'Tuesday 12 January 2027, 10:00
    (Asia/Dhaka)': a panel is where it is, whoever reads about it."""
    return translator.gettext(
        language,
        N_("{when} ({timezone})"),
        when=local_moment(language, moment, timezone),
        timezone=timezone,
    )


def percent(language: str, share: float, decimals: int = 0) -> str:
    """A share (0..1) as the reader writes percentages, e.g. 66.7 % in Norwegian."""
    pattern = "#,##0%" if decimals == 0 else "#,##0." + "#" * decimals + "%"
    return format_percent(share, format=pattern, locale=_locale(language))


def short(text: str, limit: int = 280) -> str:
    """A quote cut at a word boundary, so a digest stays a digest."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def names(people: list[str] | tuple[str, ...]) -> str:
    return ", ".join(people)
