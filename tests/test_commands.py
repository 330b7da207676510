"""Commands as people write them: in their own language or English, mistyped, or made up."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import func, select

from bot.i18n import format_day
from bot.plan import plan_for
from storage.models import Answer, Note, Person
from tests.test_scheduler_clock import PEOPLE, first_working_on_or_after
from tests.transcript import Transcript

COORDINATOR_ONLY = ("handled",)


async def stored(t: Transcript) -> tuple[int, int]:
    async with t.engine.store.session() as session:
        answers = (await session.exec(select(func.count()).select_from(Answer))).one()
        notes = (await session.exec(select(func.count()).select_from(Note))).one()
        return answers, notes


async def person(t: Transcript, person_id: str) -> Person:
    async with t.engine.store.session() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


async def start_midpoint(t: Transcript, person_id: str = "tanvir") -> None:
    async with t.engine.store.session() as session:
        p = await session.get(Person, person_id)
        assert p is not None
        t.now = next(x.due_at for x in await plan_for(session, p) if x.flow == "midpoint")
    await t.start(person_id, "midpoint")
    t.unread(person_id)


async def test_a_mistyped_command_is_asked_about_and_stored_only_if_it_was_an_answer(
    transcript: Transcript,
) -> None:
    t = transcript
    await start_midpoint(t)
    await t.send("tanvir", "stauts")
    assert "Did you mean status?" in t.unread("tanvir")[-1].text
    assert await stored(t) == (0, 0)
    await t.send("tanvir", "yes")
    assert await stored(t) == (1, 0)  # it was the answer to the question asked


async def test_a_mistyped_command_then_the_command_stores_nothing(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    await t.send("tanvir", "stauts")
    await t.send("tanvir", "status")
    assert "Midpoint reflection: 0 of 11 questions answered." in t.unread("tanvir")[-1].text
    await t.send("tanvir", "yes")  # now simply an answer of its own
    async with t.engine.store.session() as session:
        assert [a.text for a in (await session.exec(select(Answer))).all()] == ["yes"]


async def test_an_unknown_slash_word_is_refused_with_the_commands_and_never_stored(
    transcript: Transcript,
) -> None:
    t = transcript
    await start_midpoint(t)
    await t.send("tanvir", "/frobnicate")
    reply = t.unread("tanvir")[-1].text
    assert "not a command I know" in reply and "status: where you are" in reply
    assert await stored(t) == (0, 0)
    # Between conversations too: not even a note.
    await t.send("rina", "/frobnicate")
    assert await stored(t) == (0, 0)


async def test_pause_in_bengali_and_norwegian_command_words(transcript: Transcript) -> None:
    t = transcript
    await t.send("rina", "বিরতি ১২/০৪/২০২৭")  # rina writes Bengali, digits included
    rina = await person(t, "rina")
    assert rina.paused and rina.paused_until == date(2027, 4, 12)
    async with t.engine.store.session() as session:
        tanvir = await session.get(Person, "tanvir")
        assert tanvir is not None
        tanvir.language = "nb"
        session.add(tanvir)
    await t.send("tanvir", "pause til 12. april")
    assert (await person(t, "tanvir")).paused_until == date(2027, 4, 12)
    await t.send("tanvir", "fortsett")
    assert not (await person(t, "tanvir")).paused


async def test_help_is_in_the_persons_language_and_for_their_role(transcript: Transcript) -> None:
    t = transcript
    await t.send("tanvir", "help")
    participant = t.unread("tanvir")[-1].text
    assert "status: where you are and what comes next" in participant
    assert not [w for w in COORDINATOR_ONLY if f"\n{w}" in participant]
    await t.send("ingrid", "help")
    coordinator = t.unread("ingrid")[-1].text
    assert "håndtert 12:" in coordinator  # Ingrid writes Norwegian
    assert "pause" not in coordinator and "hjelp:" in coordinator
    await t.send("rina", "help")
    assert "অবস্থা:" in t.unread("rina")[-1].text  # status, as Rina writes it


async def test_a_past_or_impossible_pause_date_is_refused_with_an_example(transcript: Transcript) -> None:
    t = transcript
    await t.send("tanvir", "pause until 2020-01-01")
    reply = t.unread("tanvir")[-1].text
    assert "Write a date after today" in reply and "pause until 2027-04-14" in reply
    await t.send("tanvir", "pause until 31/04/2027")
    reply = t.unread("tanvir")[-1].text
    assert "could not read “31/04/2027” as a date" in reply and "14 April" in reply
    assert not (await person(t, "tanvir")).paused
    assert await stored(t) == (0, 0)
    await t.send("tanvir", "pause until 12 April")
    assert (await person(t, "tanvir")).paused_until == date(2027, 4, 12)


async def test_the_welcome_announces_the_day_the_midpoint_really_starts(transcript: Transcript) -> None:
    # Tanvir's calendar midpoint is Saturday 1 May 2027; his host in Cambodia works Monday to Friday.
    t = transcript
    await t.start("tanvir", "welcome")
    welcome = t.unread("tanvir")[0].text
    await start_midpoint(t)
    first_day = t.now.astimezone(ZoneInfo("Asia/Phnom_Penh")).date()
    assert first_day == date(2027, 5, 3)
    assert "Monday, May 3, 2027" in welcome and "May 1" not in welcome
    # And the final reflection: from the first working day six days before the end.
    end = PEOPLE["tanvir"]["end"]
    final = first_working_on_or_after("tanvir", end - timedelta(days=6))
    assert f"(from {format_day('en', final)})" in welcome
