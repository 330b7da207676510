"""The learning-outcome report: percentages against values computed by hand for a planted data set,
the chart drawn from those same numbers, and a valid PNG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.reports.chart import chart_png, outcome_chart
from bot.reports.outcome_report import render_html, render_markdown
from bot.reports.outcomes import build_outcomes
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Conversation, Question
from tests.conftest import PROGRAMME
from tests.support import RecordingSender, cli_runner
from tests.test_digest import NOW, start
from tests.transcript import Transcript

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Choices of the final reflection's outcome question, by number.
TECHNICAL, ORGANISATIONAL, PERSONAL, INNOVATION = "1", "2", "3", "4"

# The planted final reflections (Tanvir's is started and left unanswered):
#   rina   aspada-sahaj  technical, personal  self-reliance-groups 4
#   bishal aspada-sahaj  organisational       community-hospital-model 3
#   priya  aspada-pahal  technical, innovation urban-health-access 5
#   sokha  kry-aspada    technical            family-practices 2, adapt-training-manuals 4
FINALS = {
    "rina": (f"{TECHNICAL},{PERSONAL}", {"self-reliance-groups": "4"}, "Weekly savings meetings."),
    "bishal": (ORGANISATIONAL, {"community-hospital-model": "3"}, "A community health fund."),
    "priya": (f"{TECHNICAL},{INNOVATION}", {"urban-health-access": "5"}, "Mobile clinics on market days."),
    "sokha": (TECHNICAL, {"family-practices": "2", "adapt-training-manuals": "4"}, "Cooking demonstrations."),
}
# By hand: 4 participants answered the outcome question, from 3 partnerships.
BY_HAND_PARTICIPANTS = {  # outcome: (count, percent of 4)
    "technical-competence": (3, 75.0),
    "organisational-development": (1, 25.0),
    "personal-development": (1, 25.0),
    "innovation": (1, 25.0),
}
BY_HAND_PARTNERSHIPS = {  # outcome: (count, percent of 3)
    "technical-competence": (3, 100.0),
    "organisational-development": (1, 100 / 3),
    "personal-development": (1, 100 / 3),
    "innovation": (1, 100 / 3),
}
BY_HAND_GOALS = {  # goal: (mean, answers), in programme order
    "urban-health-access": (5.0, 1),
    "self-reliance-groups": (4.0, 1),
    "community-hospital-model": (3.0, 1),
    "family-practices": (2.0, 1),
    "adapt-training-manuals": (4.0, 1),
}


async def answer_final(t: Transcript, person: str) -> None:
    """The outcome question and a sentence per outcome chosen, each goal's score, what to adopt."""
    outcomes, goals, adopt = FINALS[person]
    await start(t, person, "final")
    for _ in range(20):
        async with t.engine.store.session() as session:
            conv = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.person_id == person, Conversation.status == "open"
                    )
                )
            ).first()
            question = (
                await session.get(Question, conv.current_question_id)
                if conv and conv.current_question_id
                else None
            )
        if question is None:
            return
        if question.key == "outcomes":
            await t.send(person, outcomes)
        elif question.key == "goal_progress":
            assert question.goal_id is not None
            await t.send(person, goals[question.goal_id])
        elif question.key == "adopt":
            await t.send(person, adopt)
        else:
            await t.send(person, "It happened.")
    raise AssertionError("the final reflection did not end")


async def plant(t: Transcript) -> None:
    t.now = NOW
    for person in FINALS:
        await answer_final(t, person)
    await start(t, "tanvir", "final")


async def test_percentages_equal_the_values_computed_by_hand(
    transcript: Transcript, translator: Translator
) -> None:
    await plant(transcript)
    report = await build_outcomes(transcript.engine.store)

    assert (report.participants, report.respondents, report.partnerships_responding) == (5, 4, 3)
    for share in report.shares:
        count, pct = BY_HAND_PARTICIPANTS[share.outcome]
        assert (share.participants, 100 * share.participant_share) == (count, pytest.approx(pct))
        count, pct = BY_HAND_PARTNERSHIPS[share.outcome]
        assert (share.partnerships, 100 * share.partnership_share) == (count, pytest.approx(pct))
    assert {g.goal_id: (g.mean, g.count) for g in report.goals} == BY_HAND_GOALS
    final = next(r for r in report.response_rates if r.flow == "final")
    assert (final.asked, final.answered, final.completed, final.rate) == (5, 4, 4, 0.8)
    assert sorted(text for a in report.adoptions for text in a.texts) == sorted(f[2] for f in FINALS.values())
    # Grouped by the participants' home organisation.
    assert {a.organisation: len(a.texts) for a in report.adoptions} == {
        "Aspada": 1,
        "Sahaj Community Hospital": 1,
        "Pahal": 1,
        "Krousar Yoeung": 1,
    }

    markdown = render_markdown(report, translator, "en")
    assert "| Technical competence | 3 | 75% | 3 | 100% |" in markdown
    assert "| Organisational development | 1 | 25% | 1 | 33.3% |" in markdown
    assert (
        "| Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five | Krousar Yoeung and Aspada | 2.0 | 1 |"
        in markdown
    )
    assert "| Final reflection | 5 | 4 | 4 | 80% |" in markdown
    assert "“Mobile clinics on market days.”" in markdown
    norwegian = render_markdown(report, translator, "nb")
    assert "33,3" in norwegian and "Faglig kompetanse" in norwegian


async def test_the_chart_is_drawn_from_the_same_numbers_and_is_a_valid_png(
    transcript: Transcript, translator: Translator
) -> None:
    await plant(transcript)
    report = await build_outcomes(transcript.engine.store)
    figure = outcome_chart(report, translator, "en")

    outcomes_axes, goals_axes, _ratings_axes = figure.axes
    participants, partnerships = outcomes_axes.containers
    assert [bar.get_height() for bar in participants] == pytest.approx(
        [BY_HAND_PARTICIPANTS[o][1] for o in BY_HAND_PARTICIPANTS]
    )
    assert [bar.get_height() for bar in partnerships] == pytest.approx(
        [BY_HAND_PARTNERSHIPS[o][1] for o in BY_HAND_PARTNERSHIPS]
    )
    assert [tick.get_text() for tick in outcomes_axes.get_xticklabels()] == [
        "Technical\ncompetence",
        "Organisational\ndevelopment",
        "Personal\ndevelopment",
        "Innovation",
    ]
    [goal_bars] = goals_axes.containers
    assert [bar.get_width() for bar in goal_bars] == [mean for mean, _n in BY_HAND_GOALS.values()]

    png = chart_png(figure)
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 300


async def test_html_is_one_file_with_the_chart_embedded(
    transcript: Transcript, translator: Translator
) -> None:
    await plant(transcript)
    html = render_html(await build_outcomes(transcript.engine.store), translator, "en")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "https://" not in html and "http://" not in html and "<link" not in html and "<script" not in html
    assert html.count("<svg") == 1 and "<img" not in html  # the chart inline, its labels text
    assert "<td>Technical competence</td>" in html


async def test_an_empty_programme_reports_zeros_without_failing(
    programme: Store, translator: Translator
) -> None:
    report = await build_outcomes(programme)
    assert report.respondents == 0 and all(s.participant_share == 0 for s in report.shares)
    assert [g.mean for g in report.goals] == [None] * 5
    figure = outcome_chart(report, translator, "en")
    assert len(figure.axes) == 1
    assert chart_png(figure).startswith(PNG_SIGNATURE)


def test_cli_writes_the_report_and_the_png(tmp_path: Path, database_url: str) -> None:
    import asyncio

    async def plant_all() -> None:
        store = Store(database_url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        sender = RecordingSender()
        await plant(
            Transcript(Engine(store, Translator()), Deliverer(store, {"console": sender}), sender, NOW)
        )
        await store.close()

    asyncio.run(plant_all())
    cli = cli_runner(database_url, tmp_path)

    result = cli("outcomes", "--png", "chart.png")
    assert result.returncode == 0, result.stderr
    assert "| Technical competence | 3 | 75% | 3 | 100% |" in result.stdout
    assert "![" in result.stdout and "](chart.png)" in result.stdout
    with Image.open(tmp_path / "chart.png") as image:
        assert image.format == "PNG"
    result = cli("outcomes", "--format", "html", "--out", "report.html")
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "report.html").read_text(encoding="utf-8")


def _texts(figure) -> set[str]:
    from matplotlib.text import Text

    return {" ".join(t.get_text().split()) for t in figure.findobj(Text) if t.get_text()}


@pytest.mark.parametrize(
    ("language", "font"),
    [("bn", "Noto Sans Bengali"), ("hi", "Noto Sans Devanagari"), ("km", "Noto Sans Khmer")],
)
async def test_the_png_chart_speaks_the_readers_language_when_its_font_is_installed(
    transcript: Transcript, translator: Translator, language: str, font: str
) -> None:
    """matplotlib (>= 3.11, with libraqm) shapes these scripts; the font comes from the system
    (Debian: fonts-noto-core)."""
    from bot.reports.chart import SHAPES_TEXT, fonts_of, png_labels_notice

    fonts = fonts_of(("DejaVu Sans", font))
    if font not in fonts.families or not SHAPES_TEXT:
        pytest.skip(f"{font} is not installed (or matplotlib cannot shape): the fallback test covers this")
    await plant(transcript)
    report = await build_outcomes(transcript.engine.store)
    texts = _texts(outcome_chart(report, translator, language, fonts=fonts))
    for english in ("Outcomes reported", "Share of participants", "Progress per learning goal", "Innovation"):
        assert translator.gettext(language, english) in texts
        assert english not in texts
    assert png_labels_notice(translator, language, fonts) is None
    assert chart_png(outcome_chart(report, translator, language, fonts=fonts)).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("language", "font"),
    [("bn", "Noto Sans Bengali"), ("hi", "Noto Sans Devanagari"), ("km", "Noto Sans Khmer")],
)
async def test_without_the_scripts_font_the_png_keeps_english_labels_and_says_what_to_install(
    programme: Store, translator: Translator, language: str, font: str
) -> None:
    from bot.reports.chart import fonts_of, png_labels_notice

    latin_only = fonts_of(("DejaVu Sans",))
    report = await build_outcomes(programme)
    texts = _texts(outcome_chart(report, translator, language, fonts=latin_only))
    assert {"Outcomes reported", "Share of participants", "Innovation"} <= texts
    notice = png_labels_notice(translator, language, latin_only)
    assert notice is not None and "\n" not in notice
    assert f"install {font}" in notice and "fonts-noto-core" in notice and "--format html" in notice
    # Norwegian needs no other font than DejaVu Sans.
    assert png_labels_notice(translator, "nb", latin_only) is None


def test_cli_png_in_khmer_names_a_missing_font_in_one_line_and_never_a_traceback(
    tmp_path: Path, database_url: str
) -> None:
    from bot.reports.chart import png_labels_notice

    cli = cli_runner(database_url, tmp_path)
    assert cli("init").returncode == 0 and cli("import", str(PROGRAMME)).returncode == 0
    result = cli("outcomes", "--lang", "km", "--png", "km.png", "--out", "km.md")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    # This machine's fonts decide: Khmer labels and no notice, or English labels and one line.
    expected = png_labels_notice(Translator(), "km")
    notices = [line for line in result.stderr.splitlines() if line.startswith("outcomes:")]
    assert notices == ([f"outcomes: {expected}"] if expected else [])
    with Image.open(tmp_path / "km.png") as image:
        assert image.format == "PNG"
