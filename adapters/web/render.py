"""The web view's templates (Jinja2, autoescaped) and what they are given to say things in the
reader's language: `N_` translates (and marks the text for the catalogues), dates are formatted
with Babel in the coordinator's time zone."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel import Locale
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.flows import FLOWS
from bot.i18n import LANGUAGES, Translator, format_day, format_moment
from bot.reports.common import percent, zoned_moment
from bot.reports.digest import ADVICE, KIND_LABELS

TEMPLATES = Path(__file__).parent / "templates"


def autonym(language: str) -> str:
    """A language's name in itself (norsk bokmål, বাংলা), for the language menu."""
    return Locale.parse(language).get_display_name(language) or language


class Pages:
    def __init__(self, translator: Translator) -> None:
        self.translator = translator
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, template: str, language: str, /, **context: Any) -> str:
        zone = ZoneInfo(context.get("timezone") or "UTC")

        def t(message: str, **values: object) -> str:
            return self.translator.gettext(language, message, **values)

        def when(moment: datetime | None) -> str:
            return format_moment(language, moment.astimezone(zone)) if moment else "–"

        def day(value: date | datetime | None) -> str:
            if value is None:
                return "–"
            if isinstance(value, datetime):
                value = value.astimezone(zone).date()
            return format_day(language, value)

        helpers = {
            "N_": t,
            "when": when,
            # A panel is where it is: its own time, with its zone (as the digest and pack show it).
            "at_place": lambda moment, timezone: zoned_moment(self.translator, language, moment, timezone),
            "day": day,
            "percent": lambda share: percent(language, share),
            "flow_title": lambda flow: t(FLOWS[flow].title) if flow in FLOWS else flow,
            "kind_label": lambda kind: t(KIND_LABELS[kind]) if kind in KIND_LABELS else kind,
            "advice": lambda platform: t(ADVICE[platform if platform in ADVICE else None]),
            "languages": [(code, autonym(code)) for code in LANGUAGES],
            "lang": language,
        }
        return self.env.get_template(template).render(**helpers, **context)

    def respond(self, template: str, language: str, /, status: int = 200, **context: Any) -> web.Response:
        return web.Response(
            text=self.render(template, language, **context),
            status=status,
            content_type="text/html",
            charset="utf-8",
        )
