"""The sweeps on a simulated clock, hour by hour across the whole sample programme.

Expected dates are computed here from the programme file and the `holidays` package directly,
not with the bot's own calendar code, so a mistake there shows up as a difference.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
import pytest_asyncio
import yaml
from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.messages import Delivery, Incoming, Op, Outgoing
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Conversation, OutboxMessage
from tests.conftest import PROGRAMME
from tests.databases import fresh_database

FILE = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
ORGS = {o["id"]: o for o in FILE["organisations"]}
PEOPLE = {p["id"]: p for p in FILE["participants"]}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SILENT = "bishal"  # never answers his midpoint reflection
FIRST, LAST = datetime(2027, 1, 3, tzinfo=UTC), datetime(2027, 8, 16, tzinfo=UTC)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def zone(person: str) -> ZoneInfo:
    return ZoneInfo(PEOPLE[person].get("timezone") or FILE["programme"]["timezone"])


def working(person: str, day: date) -> bool:
    host = ORGS[PEOPLE[person]["host"]]
    workdays = host.get("workdays") or ["mon", "tue", "wed", "thu", "fri"]
    return WEEKDAYS[day.weekday()] in workdays and day not in holidays.country_holidays(
        host["country"], years=day.year
    )


def first_working_on_or_after(person: str, day: date) -> date:
    while not working(person, day):
        day += timedelta(days=1)
    return day


def add_working_days(person: str, day: date, n: int) -> date:
    for _ in range(n):
        day = first_working_on_or_after(person, day + timedelta(days=1))
    return day


@dataclass
class Sent:
    at: datetime
    message: Outgoing

    def local(self) -> datetime:
        return self.at.astimezone(zone(self.message.person_id))


@dataclass
class ClockSender:
    """A recording adapter that knows the simulated time of each send."""

    now: datetime = FIRST
    sent: list[Sent] = field(default_factory=list)
    platform: str = "console"
    supports: frozenset[Op] = frozenset({Op.MESSAGE})

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.sent.append(Sent(self.now, message))
        return str(len(self.sent))


@dataclass
class Lived:
    sent: list[Sent]
    store: Store

    def to(self, person: str) -> list[Sent]:
        return [s for s in self.sent if s.message.person_id == person]

    def questions(self, person: str, flow: str) -> list[Sent]:
        return [s for s in self.to(person) if s.message.kind == "question" and s.message.flow == flow]


async def answer_everything(engine: Engine, deliverer: Deliverer, sender: ClockSender, start: int) -> None:
    """Simulated participants answer every question at once, except the silent one's midpoint."""
    index = start
    while index < len(sender.sent):
        message = sender.sent[index].message
        index += 1
        if message.kind != "question" or message.question_id is None:
            continue
        if message.person_id == SILENT and message.flow == "midpoint":
            continue
        reply = {"text": "An answer.", "single": "1", "multi": "1,2", "scale": "4"}[
            message.question_kind or "text"
        ]
        await engine.handle(
            Incoming("console", message.person_id, text=reply, question_id=message.question_id), sender.now
        )
        await deliverer.drain(sender.now)


async def live_through(store: Store, hours: list[datetime]) -> list[Sent]:
    engine = Engine(store)
    sender = ClockSender()
    deliverer = Deliverer(store, {"console": sender})
    sweeps = Sweeps(engine, deliverer)
    for moment in hours:
        sender.now = moment
        before = len(sender.sent)
        await sweeps.run_all(moment)
        await answer_everything(engine, deliverer, sender, before)
    return sender.sent


def hourly(first: datetime, last: datetime) -> list[datetime]:
    return [first + timedelta(hours=h) for h in range(int((last - first).total_seconds() // 3600))]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lived(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lived]:
    with fresh_database(tmp_path_factory.mktemp("clock")) as url:
        store = Store(url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        sent = await live_through(store, hourly(FIRST, LAST))
        yield Lived(sent, store)
        await store.close()


async def test_midpoint_starts_on_the_first_working_day_from_the_midpoint_at_prompt_time(
    lived: Lived,
) -> None:
    for person, p in PEOPLE.items():
        midpoint = p["start"] + timedelta(days=(p["end"] - p["start"]).days // 2)
        expected = first_working_on_or_after(person, midpoint)
        first = lived.questions(person, "midpoint")[0].local()
        assert first.date() == expected, person
        assert time(10, 0) <= first.time() < time(11, 0), person  # within one hourly sweep


async def test_nothing_reaches_a_participant_on_a_day_off_or_outside_the_morning(lived: Lived) -> None:
    for person in PEOPLE:
        for sent in lived.to(person):
            local = sent.local()
            assert working(person, local.date()), (person, local, sent.message.text[:60])
            assert time(10, 0) <= local.time() < time(11, 0), (person, local)


async def test_each_day_of_the_midpoint_is_its_own_working_day(lived: Lived) -> None:
    days_per_person = {}
    for person in PEOPLE:
        if person == SILENT:
            continue
        days = sorted({s.local().date() for s in lived.questions(person, "midpoint")})
        assert len(days) == FILE["programme"]["midpoint"]["reflection_days"], person
        for earlier, later in itertools.pairwise(days):
            assert later == first_working_on_or_after(person, earlier + timedelta(days=1)), person
        days_per_person[person] = days
    assert len(days_per_person) == 4


async def test_reminders_fire_after_the_working_days_set_once_each_and_no_more_than_max(lived: Lived) -> None:
    after, most = FILE["programme"]["reminders"]["after_days"], FILE["programme"]["reminders"]["max"]
    async with lived.store.session() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("remind:")))
        ).all()
        first_question = lived.questions(SILENT, "midpoint")[0]
        asks = (
            await session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.key).startswith(f"ask:{first_question.message.question_id}")
                )
            )
        ).all()
    # Everyone else answers at once: only the silent participant's first question is reminded.
    assert sorted(r.key for r in rows) == [
        f"remind:{first_question.message.question_id}:{n}" for n in range(1, most + 1)
    ]
    assert all(r.person_id == SILENT and r.status == "sent" for r in rows)
    # Each reminder comes `after` working days after the question was last asked (first, and
    # again when his midpoint resumed after the panel preparation) or last reminded.
    events = sorted(
        [(r.sent_at, "asked") for r in asks if r.sent_at] + [(r.sent_at, "reminded") for r in rows if r.sent_at]
    )
    assert len([e for e in events if e[1] == "asked"]) == 2  # asked, then asked again on resuming
    for (before, _), (at, what) in itertools.pairwise(events):
        if what == "reminded":
            day = before.astimezone(zone(SILENT)).date()
            assert at.astimezone(zone(SILENT)).date() == add_working_days(SILENT, day, after)
    # Each reminder repeats the question, tagged with it, so a click on it answers that question.
    repeats = [s for s in lived.questions(SILENT, "midpoint")[1:]]
    assert [s.message.question_id for s in repeats] == [first_question.message.question_id] * (most + 1)


async def test_panel_prep_arrives_prep_days_before_the_panel(lived: Lived) -> None:
    panel = FILE["panels"][0]
    at = datetime.fromisoformat(panel["at"]).replace(tzinfo=ZoneInfo(panel["timezone"]))
    for person in panel["presenters"]:
        prep = lived.questions(person, "panel-prep")
        expected = first_working_on_or_after(
            person, (at - timedelta(days=panel["prep_days_before"])).astimezone(zone(person)).date()
        )
        assert prep[0].local().date() == expected, person
        assert prep[-1].at < at


async def test_a_midpoint_open_on_the_preparation_day_waits_for_it_and_resumes(lived: Lived) -> None:
    # The silent participant's midpoint was asked before his panel preparation and still open.
    midpoint = lived.questions(SILENT, "midpoint")
    prep = lived.questions(SILENT, "panel-prep")
    assert midpoint[0].at < prep[0].at
    # The midpoint asks nothing while the preparation runs, and is asked again after it.
    order = {id(s): i for i, s in enumerate(lived.sent)}
    first_prep, last_prep = order[id(prep[0])], order[id(prep[-1])]
    assert not [s for s in midpoint if first_prep < order[id(s)] < last_prep]
    assert any(order[id(s)] > last_prep for s in midpoint)


async def test_an_unanswered_midpoint_gives_way_to_the_final_reflection(lived: Lived) -> None:
    async with lived.store.session() as session:
        convs = {
            c.flow: c.status
            for c in (await session.exec(select(Conversation).where(Conversation.person_id == SILENT))).all()
        }
    assert convs["midpoint"] == "expired" and convs["panel-prep"] == "done" and convs["final"] == "done"
    final = lived.questions(SILENT, "final")
    assert final and final[0].local().date() >= PEOPLE[SILENT]["end"] - timedelta(days=7)


async def test_a_process_down_for_three_days_across_a_midpoint_starts_it_at_the_next_start(
    database_url: str,
) -> None:
    store = Store(database_url)
    await migrate(store)
    await import_programme(store, PROGRAMME)
    rina = PEOPLE["rina"]
    midpoint = first_working_on_or_after(
        "rina", rina["start"] + timedelta(days=(rina["end"] - rina["start"]).days // 2)
    )
    due = datetime.combine(midpoint, time(10, 0), tzinfo=zone("rina")).astimezone(UTC)
    up_again = due + timedelta(days=3, hours=5)  # down from a day before to three days after
    hours = hourly(due - timedelta(days=2), due - timedelta(days=1)) + hourly(
        up_again, up_again + timedelta(days=2)
    )
    sent = await live_through(store, hours)
    first = next(
        s
        for s in sent
        if s.message.person_id == "rina" and s.message.flow == "midpoint" and s.message.kind == "question"
    )
    # The first sweep after the restart in Rina's prompt window (from 10:00 local, on a working day).
    expected = next(
        h
        for h in hours
        if h >= up_again
        and working("rina", h.astimezone(zone("rina")).date())
        and 10 <= h.astimezone(zone("rina")).hour < 20
    )
    assert first.at == expected
    await store.close()
