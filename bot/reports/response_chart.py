"""The response rate of a coordinator's participants week by week, drawn as an inline SVG for
their web view (matplotlib's object-oriented API, as `bot.reports.chart`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import N_, Translator, _locale
from bot.reports.coordinator_view import WeekRate

TITLE = N_("Response rate per week")


def response_chart_svg(
    weeks: tuple[WeekRate, ...], translator: Translator, language: str, timezone: str
) -> str:
    """One bar per week (the share of participants asked that week who answered), labelled with
    the week's first day in the reader's language; a week nobody was asked shows no bar."""
    # Imported when a chart is drawn, as in bot.reports.outcome_report.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from bot.reports.chart import chart_svg

    zone = ZoneInfo(timezone)
    labels = [
        format_date(w.starts.astimezone(zone).date(), format="d MMM", locale=_locale(language)) for w in weeks
    ]
    values = [100 * (w.rate or 0.0) for w in weeks]
    fig = Figure(figsize=(8, 3), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    bars = ax.bar(range(len(weeks)), values, color="#2f6f8f", gid="response-rate")
    ax.bar_label(
        bars,
        labels=[f"{w.answered}/{w.asked}" if w.asked else "–" for w in weeks],
        fontsize=8,
    )
    ax.set_xticks(range(len(weeks)), labels, fontsize=8)
    ax.set_ylim(0, 112)
    ax.set_ylabel("%")
    ax.set_title(translator.gettext(language, TITLE))
    ax.spines[["top", "right"]].set_visible(False)
    return chart_svg(fig)
