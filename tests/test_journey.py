"""The learning journey (issue 17): where each participant stands on each of their learning goals at
the welcome (the baseline), the midpoint and the end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.messages import Outgoing
from bot.plan import plan_for
from bot.privacy import export_person, forget_person
from bot.reports.chart import outcome_chart
from bot.reports.digest import build_digest, render_text
from bot.reports.outcome_report import render_markdown
from bot.reports.outcomes import build_outcomes
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.models import Answer, Conversation, Person, Question
from storage.programme_file import ProgrammeFileError, load_programme_file
from tests.conftest import PROGRAMME
from tests.support import RecordingSender
from tests.transcript import Transcript

SOKHA_GOALS = {"family-practices", "adapt-training-manuals"}


async def live_through(
    t: Transcript,
    person_id: str,
    flow: str,
    ratings: dict[str, str] | None = None,
    answers: dict[str, str] | None = None,
    key: str | None = None,
) -> list[Question]:
    """Start the person's planned conversation (`key`, or the first of `flow`) when it falls due
    and answer every question it asks (a goal's rating from `ratings`, a question by its key from
    `answers`, anything else with a line of text or the first option), day after day; the
    questions it asked, in order."""
    ratings, answers = ratings or {}, answers or {}
    async with t.engine.store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        planned = next(p for p in await plan_for(session, person) if p.flow == flow and key in (None, p.key))
    t.now = planned.due_at
    conv = await t.engine.start(person_id, planned, t.now)
    assert conv is not None
    await t.deliverer.drain(t.now)
    asked: list[Question] = []
    for _ in range(60):
        async with t.engine.store.session() as session:
            fresh = await session.get(Conversation, conv.id)
            assert fresh is not None
            if fresh.status != "open":
                return asked
            question = await session.get(Question, fresh.current_question_id) if fresh.current_question_id else None
            next_day = fresh.next_group_at
        if question is None:
            assert next_day is not None
            await t.at(next_day)
            continue
        asked.append(question)
        if question.key in answers:
            await t.send(person_id, answers[question.key])
        elif question.key == "goal_progress":
            assert question.goal_id is not None
            await t.send(person_id, ratings[question.goal_id])
        elif question.kind == "text":
            await t.send(person_id, "A line about it.")
        else:
            await t.send(person_id, "1")
    raise AssertionError(f"the {flow} did not end")


async def stored_ratings(t: Transcript, person_id: str) -> dict[tuple[str, str], str]:
    """(flow, goal) → the rating stored."""
    async with t.engine.store.session() as session:
        rows = (
            await session.exec(
                select(Conversation.flow, Answer.goal_id, Answer.text)
                .join(Question, col(Answer.question_id) == Question.id)
                .join(Conversation, col(Question.conversation_id) == Conversation.id)
                .where(Answer.person_id == person_id, Question.key == "goal_progress")
            )
        ).all()
    assert len(rows) == len({(flow, goal) for flow, goal, _ in rows})
    return {(flow, goal): text for flow, goal, text in rows if goal is not None}


async def test_welcome_midpoint_and_final_each_store_a_rating_per_learning_goal(transcript: Transcript) -> None:
    t = transcript
    given = {
        "welcome": {"family-practices": "1", "adapt-training-manuals": "2"},
        "midpoint": {"family-practices": "3", "adapt-training-manuals": "2"},
        "final": {"family-practices": "5", "adapt-training-manuals": "4"},
    }
    for flow, ratings in given.items():
        asked = await live_through(t, "sokha", flow, ratings)
        # Two goals, two ratings, each followed by its one line of why.
        per_goal = [(q.key, q.goal_id) for q in asked if q.goal_id is not None and q.key.startswith("goal_progress")]
        assert per_goal == [
            ("goal_progress", "family-practices"),
            ("goal_progress_why", "family-practices"),
            ("goal_progress", "adapt-training-manuals"),
            ("goal_progress_why", "adapt-training-manuals"),
        ], flow

    assert await stored_ratings(t, "sokha") == {
        (flow, goal): rating for flow, ratings in given.items() for goal, rating in ratings.items()
    }


async def test_the_welcome_asks_after_its_introduction_and_thanks_at_the_end(transcript: Transcript) -> None:
    t = transcript
    await live_through(t, "tanvir", "welcome", {"family-practices": "2"})
    messages = [m.text for m in t.unread("tanvir")]
    assert messages[0].startswith("Hello Tanvir Hossain! I am reflectbot")
    assert "Where do you stand today with your learning goal “Train self-reliance groups" in messages[1]
    assert "1 = just starting, 5 = fully there" in messages[1]
    assert "In one line: why that number" in messages[2]
    assert messages[-1] == "Thank you! This is where you start from; I will ask the same again later."
    assert await stored_ratings(t, "tanvir") == {("welcome", "family-practices"): "2"}


# After return: follow-ups at the programme's months after the end, on the home organisation's
# working days (its work week, its country's public holidays), at 10:00 in the person's zone.
HOME = {  # person: (home work week, home country, time zone, end of exchange)
    "priya": ({"mon", "tue", "wed", "thu", "fri"}, "IN", "Asia/Dhaka", date(2027, 5, 28)),
    "rina": ({"sun", "mon", "tue", "wed", "thu"}, "BD", "Asia/Kathmandu", date(2027, 6, 25)),
    "tanvir": ({"sun", "mon", "tue", "wed", "thu"}, "BD", "Asia/Phnom_Penh", date(2027, 8, 13)),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def with_follow_ups(tmp_path: Path, months: list[int], leaving: str) -> Path:
    """The sample programme file with follow-ups at `months`, and one participant taken out."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    data["programme"]["follow_ups"] = {"after_months": months}
    data["participants"] = [p for p in data["participants"] if p["id"] != leaving]
    for panel in data["panels"]:
        panel["presenters"] = [p for p in panel["presenters"] if p != leaving]
    edited = tmp_path / "programme-follow-ups.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return edited


def first_home_working_day(person: str, day: date) -> date:
    workdays, country, _zone, _end = HOME[person]
    public = holidays.country_holidays(country, years=[day.year, day.year + 1])
    while WEEKDAYS[day.weekday()] not in workdays or day in public:
        day += timedelta(days=1)
    return day


def months_after(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


async def test_follow_ups_come_at_the_configured_months_on_home_working_days_and_not_to_who_left_or_was_forgotten(
    store: Store, translator: Translator, tmp_path: Path
) -> None:
    await import_programme(store, PROGRAMME)
    await import_programme(store, with_follow_ups(tmp_path, [3, 5], leaving="bishal"))
    await forget_person(store, "sokha")
    sender = RecordingSender()
    sweeps = Sweeps(Engine(store, translator), Deliverer(store, {"console": sender}))

    def follow_ups_to(person: str) -> list[Outgoing]:
        return [m for m in sender.to(person) if m.flow == "follow-up" and m.kind == "question"]

    targets = sorted(
        (months_after(end, months), person, months)
        for person, (_w, _c, _z, end) in HOME.items()
        for months in (3, 5)
    )
    for target, person, months in targets:
        expected = first_home_working_day(person, target)
        zone = ZoneInfo(HOME[person][2])
        # Questions asked before (the last follow-up's, reminded while it is open) are not new.
        before = {m.question_id for m in follow_ups_to(person)}
        day = target - timedelta(days=2)
        while day <= expected:
            # Every day at 10:05 in the person's own zone, working day or not.
            await sweeps.run_all(datetime.combine(day, time(10, 5), tzinfo=zone).astimezone(UTC))
            asked = [m for m in follow_ups_to(person) if m.question_id not in before]
            if day < expected:
                assert asked == [], f"{person}'s {months}-month follow-up came early, on {day}"
            else:
                assert len(asked) == 1, f"{person}'s {months}-month follow-up did not come on {day}"
                assert asked[0].question_kind == "single"  # have you applied something?
            day += timedelta(days=1)

    intro = next(m.text for m in sender.to("tanvir") if "since your exchange" in m.text)
    assert intro.startswith("It is 3 months since your exchange at Krousar Yoeung ended.")
    assert "what has come of it at Aspada" in intro
    # Who left the programme and who was forgotten hear nothing, then or later.
    for instant in (datetime(2027, 9, 5, 4, 5, tzinfo=UTC), datetime(2028, 1, 20, 4, 5, tzinfo=UTC)):
        await sweeps.run_all(instant)
    assert sender.to("bishal") == [] and sender.to("sokha") == []


async def test_without_follow_ups_in_the_file_they_come_after_three_and_six_months(programme: Store) -> None:
    async with programme.session() as session:
        tanvir = await session.get(Person, "tanvir")
        assert tanvir is not None
        plan = [p for p in await plan_for(session, tanvir) if p.flow == "follow-up"]
    zone = ZoneInfo("Asia/Phnom_Penh")
    assert [(p.context["months"], p.due_at.astimezone(zone)) for p in plan] == [
        (3, datetime.combine(first_home_working_day("tanvir", date(2027, 11, 13)), time(10), tzinfo=zone)),
        (6, datetime.combine(first_home_working_day("tanvir", date(2028, 2, 13)), time(10), tzinfo=zone)),
    ]


async def test_a_follow_up_asks_with_consent_for_what_the_panel_may_hear_and_the_coordinator_reads_it(
    transcript: Transcript, translator: Translator
) -> None:
    t = transcript
    async with t.engine.store.session() as session:
        tanvir = await session.get(Person, "tanvir")
        assert tanvir is not None
        planned = next(p for p in await plan_for(session, tanvir) if p.flow == "follow-up")
    t.now = planned.due_at
    await t.start("tanvir", "follow-up")
    t.expect("tanvir", "It is 3 months since your exchange at Krousar Yoeung ended")
    t.expect_question("tanvir", "Have you applied something from your exchange in your work at Aspada?")
    await t.send("tanvir", "1")  # Yes, I have
    t.expect_question("tanvir", "What have you applied, and how did it go?")
    await t.send("tanvir", "Cooking demonstrations in two of our savings groups.")
    t.expect_question("tanvir", "May the panel hear this?", "Cooking demonstrations")
    await t.send("tanvir", "1")  # named
    t.expect_question("tanvir", "What have you shared with your colleagues at Aspada, and how?")
    await t.send("tanvir", "A short talk at our monthly staff meeting.")
    t.expect_question("tanvir", "May the panel hear this?")
    await t.send("tanvir", "3")  # not shared
    t.expect_question("tanvir", "What got in the way?")
    await t.send("tanvir", "No budget for ingredients.")
    t.expect_question("tanvir", "What would help you apply more of it?")
    await t.send("tanvir", "A small fund per group.")
    t.expect("tanvir", "Thank you! Your coordinators can now read how your exchange carries on at home.")

    export = await export_person(t.engine.store, "tanvir")
    assert [(m["text"], m["consent"]) for m in export["aha_moments"]] == [
        ("Cooking demonstrations in two of our savings groups.", "named"),
        ("A short talk at our monthly staff meeting.", "private"),
    ]
    digest = render_text(await build_digest(t.engine.store, "ingrid", t.now), translator, "en")
    for line in (
        "Applied at home · Tanvir Hossain: “Cooking demonstrations in two of our savings groups.”",
        "Shared at home · Tanvir Hossain: “A short talk at our monthly staff meeting.”",
        "In the way · Tanvir Hossain: “No budget for ingredients.”",
        "Would help · Tanvir Hossain: “A small fund per group.”",
    ):
        assert line in digest, digest


# A small programme lived through, for the outcome report. Ratings (welcome → final):
#   rina   aspada-sahaj  self-reliance-groups      2 → 4   (+2)
#   bishal aspada-sahaj  community-hospital-model  3 → 3   (0)
#   priya  aspada-pahal  urban-health-access       – → 5   (no baseline: not counted)
#   sokha  kry-aspada    family-practices          1 → 2   (+1; her midpoint 5 does not count)
#                        adapt-training-manuals    2 → 4   (+2)
#   tanvir kry-aspada    family-practices          3 → 2   (-1)
#   dara   kry-aspada    family-practices          1 → 4   (+3)
#   mina   kry-aspada    family-practices          2 → 5   (+3)
# Applied something at home: after 3 months rina yes, bishal no, sokha yes, tanvir no (priya did
# not answer); after 6 months rina yes, tanvir yes.
WELCOME_RATINGS = {
    "rina": {"self-reliance-groups": "2"},
    "bishal": {"community-hospital-model": "3"},
    "sokha": {"family-practices": "1", "adapt-training-manuals": "2"},
    "tanvir": {"family-practices": "3"},
    "dara": {"family-practices": "1"},
    "mina": {"family-practices": "2"},
}
FINAL_RATINGS = {
    "rina": {"self-reliance-groups": "4"},
    "bishal": {"community-hospital-model": "3"},
    "priya": {"urban-health-access": "5"},
    "sokha": {"family-practices": "2", "adapt-training-manuals": "4"},
    "tanvir": {"family-practices": "2"},
    "dara": {"family-practices": "4"},
    "mina": {"family-practices": "5"},
}
YES, NO = "1", "2"
APPLIED = {3: {"rina": YES, "bishal": NO, "sokha": YES, "tanvir": NO}, 6: {"rina": YES, "tanvir": YES}}
BY_HAND_JOURNEY = {  # goal: (rated at start and end, rose, median change)
    "self-reliance-groups": (1, 1, 2.0),
    "community-hospital-model": (1, 0, 0.0),
    "urban-health-access": (0, 0, None),
    "family-practices": (4, 3, 2.0),  # -1, +1, +3, +3: the median 2.0, the mean would be 1.5
    "adapt-training-manuals": (1, 1, 2.0),
}
BY_HAND_MOMENTS = {  # goal: ((welcome, midpoint, end) means, counts)
    "self-reliance-groups": ((2.0, None, 4.0), (1, 0, 1)),
    "community-hospital-model": ((3.0, None, 3.0), (1, 0, 1)),
    "urban-health-access": ((None, None, 5.0), (0, 0, 1)),
    "family-practices": ((1.75, 5.0, 3.25), (4, 1, 4)),
    "adapt-training-manuals": ((2.0, 5.0, 4.0), (1, 1, 1)),
}


def family_text() -> str:
    return "Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five"


BY_HAND_APPLIED = {  # (partnership, months): (answered, applied)
    ("Aspada and Sahaj Community Hospital", 3): (2, 1),
    ("Aspada and Pahal", 3): (0, 0),
    ("Krousar Yoeung and Aspada", 3): (2, 1),
    (None, 3): (4, 2),
    ("Aspada and Sahaj Community Hospital", 6): (1, 1),
    ("Aspada and Pahal", 6): (0, 0),
    ("Krousar Yoeung and Aspada", 6): (1, 1),
    (None, 6): (2, 2),
}


def with_two_more(tmp_path: Path) -> Path:
    """The sample programme with two more of Krousar Yoeung's staff at Aspada on Tanvir's goal."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    tanvir = next(p for p in data["participants"] if p["id"] == "tanvir")
    for pid, name in (("dara", "Dara Sok"), ("mina", "Mina Keo")):
        data["participants"].append(
            {**tanvir, "id": pid, "name": name, "home": "kry", "host": "aspada", "timezone": "Asia/Dhaka", "teams": None}
        )
    edited = tmp_path / "programme-two-more.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return edited


async def test_the_outcome_report_shows_the_journey_per_goal_and_who_applied_something_at_home(
    transcript: Transcript, translator: Translator, tmp_path: Path
) -> None:
    t = transcript
    await import_programme(t.engine.store, with_two_more(tmp_path))
    for person, ratings in WELCOME_RATINGS.items():
        await live_through(t, person, "welcome", ratings)
    await live_through(t, "sokha", "midpoint", {"family-practices": "5", "adapt-training-manuals": "5"})
    for person, ratings in FINAL_RATINGS.items():
        await live_through(t, person, "final", ratings, answers={"outcomes": "1"})
    for months, said in APPLIED.items():
        for person, answer in said.items():
            await live_through(
                t, person, "follow-up", answers={"applied": answer}, key=f"follow-up:{months}:{person}"
            )

    report = await build_outcomes(t.engine.store)
    assert {j.goal_id: (j.rated, j.rose, j.median_change) for j in report.journeys} == BY_HAND_JOURNEY
    assert {(a.partnership, a.months): (a.answered, a.applied) for a in report.applied_at_home} == BY_HAND_APPLIED
    # What was there before stays: the final reflection's mean per goal.
    assert {g.goal_id: g.mean for g in report.goals}["family-practices"] == (2 + 2 + 4 + 5) / 4

    # Ratings at three moments, by hand: family practices 1, 3, 1, 2 at the welcome; Sokha's 5
    # at the only midpoint lived; 2, 2, 4, 5 at the end.
    assert {r.goal_id: (r.means, r.counts) for r in report.ratings} == BY_HAND_MOMENTS
    figure = outcome_chart(report, translator, "en")
    ratings_axes = figure.axes[-1]
    assert ratings_axes.get_title() == "Ratings at the welcome, the midpoint and the end"
    rated = [r.goal_id for r in report.ratings if any(r.counts)]  # in the report's order
    assert len(ratings_axes.containers) == 3
    for index, bars in enumerate(ratings_axes.containers):
        assert [bar.get_width() for bar in bars] == [BY_HAND_MOMENTS[g][0][index] or 0.0 for g in rated]

    markdown = render_markdown(report, translator, "en")
    assert f"| {family_text()} | Krousar Yoeung and Aspada | 1.8 (n=4) | 5.0 (n=1) | 3.2 (n=4) |" in markdown
    assert "| Improve access to health services for people in urban slums | Aspada and Pahal | – | – | 5.0 (n=1) |" in markdown
    family = "Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five"
    assert f"| {family} | Krousar Yoeung and Aspada | 4 | 3 | 75% | +2.0 |" in markdown
    assert "| Understand how a low-cost community hospital is run and financed | Aspada and Sahaj Community Hospital | 1 | 0 | 0% | 0.0 |" in markdown
    assert "| Form self-reliance groups that help women save money for healthcare costs | Aspada and Sahaj Community Hospital | 1 | 1 | 100% | +2.0 |" in markdown
    assert "| Improve access to health services for people in urban slums | Aspada and Pahal | 0 | 0 | – | – |" in markdown
    assert "| Aspada and Sahaj Community Hospital | 3 months | 2 | 1 | 50% |" in markdown
    assert "| All partnerships | 3 months | 4 | 2 | 50% |" in markdown
    assert "| Krousar Yoeung and Aspada | 6 months | 1 | 1 | 100% |" in markdown
    assert "| Aspada and Pahal | 6 months | 0 | 0 | – |" in markdown


def programme_with(tmp_path: Path, **settings: object) -> Path:
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    data["programme"].update(settings)
    path = tmp_path / "programme-settings.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def test_no_follow_up_is_held_once_what_the_person_wrote_is_deleted_by_then(
    store: Store, tmp_path: Path
) -> None:
    await import_programme(store, programme_with(tmp_path, retention={"delete_after_months": 6}))
    async with store.session() as session:
        tanvir = await session.get(Person, "tanvir")
        assert tanvir is not None
        plan = await plan_for(session, tanvir)
    assert [p.key for p in plan if p.flow == "follow-up"] == ["follow-up:3:tanvir"]


@pytest.mark.parametrize(
    ("after_months", "message"),
    [([0, 6], "from 1 to 36"), ([3, 3], "listed twice"), ("three", "valid list")],
)
def test_a_broken_follow_up_setting_names_the_file_and_field(
    tmp_path: Path, after_months: object, message: str
) -> None:
    path = programme_with(tmp_path, follow_ups={"after_months": after_months})
    with pytest.raises(ProgrammeFileError) as caught:
        load_programme_file(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.entry == "programme"
    assert problem.field.startswith("follow_ups.after_months") and message in problem.message, problem


async def test_what_someone_back_home_shares_goes_to_the_next_panel_with_their_consent(
    transcript: Transcript, translator: Translator, tmp_path: Path
) -> None:
    from bot.reports.panel_pack import build_panel_pack
    from bot.reports.panel_pack import render_text as pack_text

    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    spring = data["panels"][0]
    data["panels"].append(
        {**spring, "id": "winter-panel", "title": "Winter learning panel", "at": "2027-12-07T10:00", "presenters": ["rina"]}
    )
    path = tmp_path / "two-panels.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    t = transcript
    await import_programme(t.engine.store, path)
    await live_through(
        t,
        "tanvir",
        "follow-up",
        answers={
            "applied": "1",
            "applied_what": "Cooking demonstrations in two of our savings groups.",
            "applied_what_consent": "1",  # named
            "shared_home": "A short talk at our monthly staff meeting.",
            "shared_home_consent": "3",  # not shared
        },
        key="follow-up:3:tanvir",
    )
    winter = pack_text(await build_panel_pack(t.engine.store, "winter-panel"), translator, "en")
    assert "Back at home" in winter
    assert "Takeaway · Tanvir Hossain: “Cooking demonstrations in two of our savings groups.”" in winter
    assert "monthly staff meeting" not in winter
    # Tanvir presents at neither panel; the spring panel, long past, does not get it.
    spring_pack = pack_text(await build_panel_pack(t.engine.store, "spring-panel"), translator, "en")
    assert "Cooking demonstrations" not in spring_pack and "Back at home" not in spring_pack
