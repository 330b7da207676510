"""The learning-outcome report: the numbers of `bot.reports.outcomes` laid out as a document, with
the chart, rendered as plain text, Markdown or one self-contained HTML file.

Definitions, also printed in the report: see `bot.reports.outcomes`.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape

from babel.numbers import format_decimal

from bot.flows import FLOWS, OUTCOME_LABELS
from bot.i18n import N_, NP_, Plural, Translator, _locale, format_day
from bot.reports.common import percent
from bot.reports.document import (
    Block,
    Bullets,
    Heading,
    Image,
    Paragraph,
    Table,
    to_html,
    to_markdown,
    to_text,
)
from bot.reports.outcomes import Outcomes
from bot.reports.pairing_report import outcome_blocks


def _blocks(
    outcomes: Outcomes,
    translator: Translator,
    language: str,
    today: datetime | None,
    chart: bytes | None,
    chart_path: str | None,
) -> list[Block]:
    def t(message: str | Plural, **values: object) -> str:
        return translator.gettext(language, message, **values)

    def decimal(value: float) -> str:
        return format_decimal(value, format="0.0", locale=_locale(language))

    def signed(value: float) -> str:
        return format_decimal(value, format="+0.0;-0.0", locale=_locale(language)) if value else decimal(0.0)

    title = t(N_("Learning outcomes: {programme}"), programme=outcomes.programme)
    blocks: list[Block] = [Heading(title, 1)]
    if today is not None:
        blocks.append(Paragraph(format_day(language, today.date()), note=True))

    blocks.append(Heading(t(N_("Outcomes reported")), 2))
    blocks.append(
        Paragraph(
            # One count per sentence: each picks its own plural form.
            t(
                NP_(
                    "Shares of participants: of the {count} participant who answered the final "
                    "reflection's outcome question.",
                    "Shares of participants: of the {count} participants who answered the final "
                    "reflection's outcome question.",
                ),
                count=outcomes.respondents,
            )
            + " "
            + t(
                NP_(
                    "Shares of partnerships: of the {count} partnership those participants belong to (a "
                    "partnership counts when at least one of its participants reports the outcome).",
                    "Shares of partnerships: of the {count} partnerships those participants belong to (a "
                    "partnership counts when at least one of its participants reports the outcome).",
                ),
                count=outcomes.partnerships_responding,
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (
                t(N_("Outcome")),
                t(N_("Participants")),
                t(N_("Share of participants")),
                t(N_("Partnerships")),
                t(N_("Share of partnerships")),
            ),
            tuple(
                (
                    t(OUTCOME_LABELS[s.outcome]),
                    str(s.participants),
                    percent(language, s.participant_share, 1),
                    str(s.partnerships),
                    percent(language, s.partnership_share, 1),
                )
                for s in outcomes.shares
            ),
            numeric=(1, 2, 3, 4),
        )
    )

    blocks.append(Heading(t(N_("Progress per learning goal")), 2))
    blocks.append(
        Paragraph(t(N_("Mean of the final reflection's answers from 1 (just starting) to 5 (fully there).")), note=True)
    )
    blocks.append(
        Table(
            (t(N_("Learning goal")), t(N_("Partnership")), t(N_("Mean")), t(N_("Answers"))),
            tuple(
                (g.text, g.partnership, decimal(g.mean) if g.mean is not None else "–", str(g.count))
                for g in outcomes.goals
            ),
            numeric=(2, 3),
        )
    )

    blocks.append(Heading(t(N_("The learning journey")), 2))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Of the participants who rated a learning goal at the welcome and again at the end: "
                    "the share whose rating rose, and the median change (end minus welcome)."
                )
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (
                t(N_("Learning goal")),
                t(N_("Partnership")),
                t(N_("Rated at start and end")),
                t(N_("Rating rose")),
                t(N_("Share whose rating rose")),
                t(N_("Median change")),
            ),
            tuple(
                (
                    j.text,
                    j.partnership,
                    str(j.rated),
                    str(j.rose),
                    percent(language, j.share_rose, 1) if j.share_rose is not None else "–",
                    signed(j.median_change) if j.median_change is not None else "–",
                )
                for j in outcomes.journeys
            ),
            numeric=(2, 3, 4, 5),
        )
    )
    blocks.append(Heading(t(N_("Ratings at the welcome, the midpoint and the end")), 2))
    blocks.append(
        Paragraph(
            t(N_("Mean rating from 1 (just starting) to 5 (fully there), and how many rated the goal then.")),
            note=True,
        )
    )

    def rated(mean: float | None, count: int) -> str:
        return f"{decimal(mean)} (n={count})" if mean is not None else "–"

    blocks.append(
        Table(
            (t(N_("Learning goal")), t(N_("Partnership")), t(N_("Welcome")), t(N_("Midpoint")), t(N_("End"))),
            tuple(
                (r.text, r.partnership, *(rated(m, n) for m, n in zip(r.means, r.counts, strict=True)))
                for r in outcomes.ratings
            ),
            numeric=(2, 3, 4),
        )
    )
    blocks.append(Heading(t(N_("Applied at home")), 2))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Of the participants who answered a follow-up after their exchange, the share who "
                    "have applied something from it in their work at home."
                )
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (t(N_("Partnership")), t(N_("After")), t(N_("Answered")), t(N_("Applied")), t(N_("Share applied"))),
            tuple(
                (
                    a.partnership if a.partnership is not None else t(N_("All partnerships")),
                    t(NP_("{count} month", "{count} months"), count=a.months),
                    str(a.answered),
                    str(a.applied),
                    percent(language, a.share, 1) if a.share is not None else "–",
                )
                for a in outcomes.applied_at_home
            ),
            numeric=(2, 3, 4),
        )
    )

    blocks.append(Heading(t(N_("What home organisations should adopt")), 2))
    if outcomes.adoptions:
        for adoption in outcomes.adoptions:
            blocks.append(Heading(adoption.organisation, 3))
            blocks.append(Bullets(tuple(f"“{text}”" for text in adoption.texts)))
            if adoption.more:
                blocks.append(
                    Paragraph(
                        t(
                            NP_(
                                "… and {count} more answer (all of them in the coordinators' downloads).",
                                "… and {count} more answers (all of them in the coordinators' downloads).",
                            ),
                            count=adoption.more,
                        ),
                        note=True,
                    )
                )
    else:
        blocks.append(Paragraph(t(N_("No answers yet.")), note=True))

    blocks.extend(outcome_blocks(outcomes.pairing, t))

    blocks.append(Heading(t(N_("Response rates")), 2))
    blocks.append(
        Paragraph(
            t(
                N_(
                    "Response rate: participants who answered at least one question of a reflection, of the participants it was started for."
                )
            ),
            note=True,
        )
    )
    blocks.append(
        Table(
            (
                t(N_("Reflection")),
                t(N_("Started")),
                t(N_("Answered")),
                t(N_("Completed")),
                t(N_("Response rate")),
            ),
            tuple(
                (
                    t(FLOWS[r.flow].title),
                    str(r.asked),
                    str(r.answered),
                    str(r.completed),
                    percent(language, r.rate, 1) if r.rate is not None else "–",
                )
                for r in outcomes.response_rates
            ),
            numeric=(1, 2, 3, 4),
        )
    )
    if chart is not None:
        blocks.append(
            Image(
                chart, t(ALT), chart_path
            )
        )
    return blocks


def render_text(
    outcomes: Outcomes, translator: Translator, language: str | None = None, today: datetime | None = None
) -> str:
    return to_text(_blocks(outcomes, translator, language or outcomes.language, today, None, None))


def render_markdown(
    outcomes: Outcomes,
    translator: Translator,
    language: str | None = None,
    today: datetime | None = None,
    chart_path: str | None = None,
) -> str:
    """Markdown cannot embed the chart: with `chart_path` it links to the PNG written there."""
    language = language or outcomes.language
    return to_markdown(
        _blocks(outcomes, translator, language, today, b"" if chart_path else None, chart_path)
    )


def render_html(
    outcomes: Outcomes, translator: Translator, language: str | None = None, today: datetime | None = None
) -> str:
    """One self-contained file with the chart inline as SVG: its labels are text in the reader's
    language, which the browser shapes (a PNG could only show what our fonts can draw)."""
    # Imported when a chart is drawn: matplotlib would add some 45 MB to every process, `serve`
    # included, that never draws one.
    from bot.reports.chart import chart_svg, outcome_chart

    language = language or outcomes.language
    svg = chart_svg(outcome_chart(outcomes, translator, language, for_browser=True))
    title = translator.gettext(language, N_("Learning outcomes: {programme}"), programme=outcomes.programme)
    page = to_html(_blocks(outcomes, translator, language, today, _SVG_SLOT, None), title, language)
    # The document renders an image as a PNG data: URI; the chart's place takes the SVG instead.
    alt = translator.gettext(language, ALT)
    slot = f'<img src="data:image/png;base64,{base64.b64encode(_SVG_SLOT).decode()}" alt="{escape(alt)}">'
    assert slot in page, "the chart's place in the page"
    return page.replace(slot, f'<div role="img" aria-label="{escape(alt)}">{svg}</div>')


# Stands for the chart while the page is laid out (see render_html).
_SVG_SLOT = b"reflectbot-chart"
ALT = N_("Chart of the outcomes reported and the progress per learning goal")
