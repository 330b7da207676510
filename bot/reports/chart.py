"""The outcome chart, drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot:
no global figure state, safe inside a server).

The figure is returned before it is saved so that what it shows can be checked against the
report's numbers: axes 0 holds two bar containers (share of participants, share of partnerships,
in percent, one bar per outcome in `OUTCOMES` order); axes 1, when any goal has answers, one
horizontal bar per answered learning goal (mean progress, 1-5); the last axes, when any goal was
rated, three bar containers (welcome, midpoint, end: the mean rating per goal, 0 where no one rated
it then) over the goals in `Outcomes.ratings` order that anyone rated.
"""

from __future__ import annotations

import io
import logging
import re
import textwrap
import warnings
from functools import cache
from typing import Any, NamedTuple, cast

from babel.numbers import format_decimal
from matplotlib import font_manager, ft2font, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.layout_engine import ConstrainedLayoutEngine

from bot.flows import OUTCOME_LABELS
from bot.i18n import N_, Translator, _locale
from bot.reports.common import percent
from bot.reports.outcomes import GoalRatings, Outcomes

logger = logging.getLogger(__name__)

# Tried in order for each glyph; only those installed are used.
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans Bengali",
    "Noto Sans Devanagari",
    "Noto Sans Khmer",
    "Lohit Bengali",
    "Lohit Devanagari",
    "Khmer OS",
)


# Scripts whose letters join, stack and reorder (Bengali conjuncts, Devanagari matras, Khmer
# subscripts): drawn right only through a text shaper, which matplotlib's text has when it is built
# with libraqm (its wheels are, from 3.11). Each with the font that draws it and the Debian package
# that installs the font.
SHAPED_SCRIPTS = (
    ("\u0900", "\u097f", "Devanagari", "Noto Sans Devanagari", "fonts-noto-core"),
    ("\u0980", "\u09ff", "Bengali", "Noto Sans Bengali", "fonts-noto-core"),
    ("\u1780", "\u17ff", "Khmer", "Noto Sans Khmer", "fonts-noto-core"),
)
SHAPES_TEXT = bool(getattr(ft2font, "__libraqm_version__", None))


class Fonts(NamedTuple):
    families: tuple[str, ...]  # tried in order for each glyph
    codes: frozenset[int]  # every character they can draw


def fonts_of(families: tuple[str, ...]) -> Fonts:
    """Those of `families` that are installed, and every character they can draw."""
    found: list[str] = []
    codes: set[int] = set()
    for family in families:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        found.append(family)
        codes.update(FT2Font(path).get_charmap())
    return Fonts(tuple(found) or ("DejaVu Sans",), frozenset(codes))


@cache
def _installed() -> Fonts:
    return fonts_of(FONT_FAMILIES)


def _script(ch: str) -> tuple[str, str, str] | None:
    """(script, font, Debian package) of a letter that needs shaping, else None."""
    return next((s[2:] for s in SHAPED_SCRIPTS if s[0] <= ch <= s[1]), None)


def missing_font(text: str, fonts: Fonts) -> str | None:
    """Why a PNG cannot show `text` as it is written, in a few words, or None when it can."""
    for ch in text:
        if ch.isspace():
            continue
        script = _script(ch)
        if ord(ch) not in fonts.codes:
            if script is None:
                return (
                    "no installed font draws some of its letters (Debian: fonts-noto-core has most scripts)"
                )
            name, family, package = script
            return f"no installed font draws {name}: install {family} (Debian: apt install {package})"
        if script is not None and not SHAPES_TEXT:
            return (
                f"this matplotlib cannot shape {script[0]} (it needs matplotlib >= 3.11, built with libraqm)"
            )
    return None


class _Labels:
    """Chart labels in the reader's language when the installed fonts can draw it (and shape it),
    else in English: a chart of empty boxes, or of letters out of order, helps no one."""

    def __init__(
        self, translator: Translator, language: str, fonts: Fonts, for_browser: bool = False
    ) -> None:
        self.translator, self.language, self.fonts = translator, language, fonts
        # An SVG chart keeps its labels as text: the browser draws and shapes them (Bengali,
        # Devanagari, Khmer) with the reader's fonts, so it never needs the English fallback.
        self.for_browser = for_browser
        self.missing: str | None = None  # why some labels are in English

    def _shown(self, text: str) -> bool:
        if self.for_browser:
            return True
        missing = missing_font(text, self.fonts)
        self.missing = self.missing or missing
        return missing is None

    def __call__(self, message: str, **values: object) -> str:
        text = self.translator.gettext(self.language, message, **values)
        return text if self._shown(text) else message.format(**values)  # English is the message id

    def plain(self, text: str, fallback: str) -> str:
        return text if self._shown(text) else fallback


def png_labels_notice(translator: Translator, language: str, fonts: Fonts | None = None) -> str | None:
    """One line for whoever asked for the PNG when its labels cannot be in `language`: which font is
    missing and what to install (the HTML report's chart is in `language` whatever the fonts)."""
    label = _Labels(translator, language, fonts or _installed())
    for message in (*CHART_TEXTS, *OUTCOME_LABELS.values()):
        label(message)
        if label.missing:
            return (
                f"the PNG chart's labels are in English: {label.missing}; "
                "the HTML report (--format html) shows the chart in the report's language"
            )
    return None


def _layout() -> ConstrainedLayoutEngine:
    # Bengali letters reach above the height that the layout measures for a line: room at the top.
    return ConstrainedLayoutEngine(h_pad=0.1)


def outcome_chart(
    outcomes: Outcomes,
    translator: Translator,
    language: str | None = None,
    for_browser: bool = False,
    fonts: Fonts | None = None,
) -> Figure:
    """The chart; `for_browser` when it becomes SVG (`chart_svg`), whose text the browser draws.
    `fonts`: those the PNG may use (default: the installed ones of FONT_FAMILIES)."""
    language = language or outcomes.language
    fonts = fonts or _installed()
    label = _Labels(translator, language, fonts, for_browser)
    families = fonts.families
    answered_goals = [g for g in outcomes.goals if g.mean is not None]
    rated_goals = [r for r in outcomes.ratings if any(r.counts)]
    heights = [4.4]
    if answered_goals:
        heights.append(0.5 * len(answered_goals) + 1.0)
    if rated_goals:
        heights.append(0.9 * len(rated_goals) + 1.4)
    fig = Figure(figsize=(9, sum(heights)), layout=_layout())
    FigureCanvasAgg(fig)
    # Sub-figures lay out on their own, so long goal names do not squeeze the outcome bars.
    panels: list[Any] = (
        list(cast(Any, fig.subfigures(len(heights), 1, height_ratios=heights))) if len(heights) > 1 else [fig]
    )

    ax = panels[0].subplots()
    positions = list(range(len(outcomes.shares)))
    width = 0.38
    for offset, values, name, colour, gid in (
        (
            -width / 2,
            [s.participant_share for s in outcomes.shares],
            N_("Share of participants"),
            "#2f6f8f",
            "participants",
        ),
        (
            width / 2,
            [s.partnership_share for s in outcomes.shares],
            N_("Share of partnerships"),
            "#e39b3a",
            "partnerships",
        ),
    ):
        bars = ax.bar(
            [x + offset for x in positions],
            [100 * v for v in values],
            width,
            label=label(name),
            color=colour,
            gid=gid,
        )
        ax.bar_label(bars, labels=[percent(language, v, 1) for v in values], fontsize=8)
    ax.set_xticks(
        positions,
        [
            textwrap.fill(label(OUTCOME_LABELS[s.outcome]), 18, break_long_words=False)
            for s in outcomes.shares
        ],
    )
    ax.set_ylim(0, 112)
    ax.set_ylabel("%")
    ax.set_title(label(N_("Outcomes reported")))
    ax.legend(loc="upper right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)

    if answered_goals:
        gx = panels[1].subplots()
        names = [
            textwrap.shorten(label.plain(g.text, g.goal_id), 60, placeholder="…") for g in answered_goals
        ]
        means = [g.mean or 0.0 for g in answered_goals]
        goal_bars = gx.barh(names, means, color="#5a9a6e", gid="goal-progress")
        gx.bar_label(
            goal_bars,
            labels=[
                f"{format_decimal(m, format='0.0', locale=_locale(language))} (n={g.count})"
                for m, g in zip(means, answered_goals, strict=True)
            ],
            fontsize=8,
            padding=3,
        )
        gx.invert_yaxis()
        gx.set_xlim(0, 6)
        gx.set_xticks([1, 2, 3, 4, 5])
        gx.set_title(label(N_("Progress per learning goal")))
        gx.spines[["top", "right"]].set_visible(False)

    if rated_goals:
        _ratings_panel(panels[-1], rated_goals, label, language)

    for text in fig.findobj(match=lambda o: hasattr(o, "set_fontfamily")):
        text.set_fontfamily(list(families))  # type: ignore[attr-defined]
    if label.missing:
        logger.info("chart labels in English for %s: %s", language, label.missing)
    return fig


MOMENT_LABELS = (N_("Welcome"), N_("Midpoint"), N_("End"))
MOMENT_COLOURS = ("#b8c7d3", "#7fa7c2", "#2f6f8f")


def _ratings_panel(panel: Any, rated: list[GoalRatings], label: _Labels, language: str) -> None:
    """Each goal's mean rating at the welcome, the midpoint and the end, side by side."""
    rx = panel.subplots()
    height = 0.26
    rows = list(range(len(rated)))
    for index, (moment, colour) in enumerate(zip(MOMENT_LABELS, MOMENT_COLOURS, strict=True)):
        means = [r.means[index] for r in rated]
        bars = rx.barh(
            [y + (index - 1) * height for y in rows],
            [m or 0.0 for m in means],
            height,
            label=label(moment),
            color=colour,
            gid=f"ratings-{index}",
        )
        rx.bar_label(
            bars,
            labels=[
                format_decimal(m, format="0.0", locale=_locale(language)) if m is not None else "–" for m in means
            ],
            fontsize=7,
            padding=2,
        )
    rx.set_yticks(
        rows, [textwrap.shorten(label.plain(r.text, r.goal_id), 60, placeholder="…") for r in rated]
    )
    rx.invert_yaxis()
    rx.set_xlim(0, 6)
    rx.set_xticks([1, 2, 3, 4, 5])
    rx.set_title(label(N_("Ratings at the welcome, the midpoint and the end")), pad=20)
    # Above the bars, between them and the title: inside, it would cover a bar that reaches 5.
    rx.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=7, frameon=False)
    rx.spines[["top", "right"]].set_visible(False)


CHART_TEXTS = (
    *MOMENT_LABELS,
    N_("Ratings at the welcome, the midpoint and the end"),
    N_("Share of participants"),
    N_("Share of partnerships"),
    N_("Outcomes reported"),
    N_("Progress per learning goal"),
)


def chart_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def chart_svg(fig: Figure) -> str:
    """The chart as an inline <svg> element: text stays text (the browser shapes every script),
    and the same figure gives the same bytes."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "reflectbot"}), warnings.catch_warnings():
        # Our fonts only measure the text here; the reader's browser draws the glyphs we lack.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Inside HTML the parser knows the SVG namespaces (xlink:href included); the file's metadata
    # and namespace URLs would only be addresses in a page meant to reach none.
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    return re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
