"""The conversation engine, with no platform: what a participant sends and what they get back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlmodel import func, select

from bot.plan import plan_for
from bot.privacy import export_person
from storage.models import AhaMoment, Answer, Conversation, Person, Question, SupportRequest
from tests.conftest import table_rows
from tests.transcript import Transcript

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
FAMILY_PRACTICES = "Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five"


async def due(t: Transcript, person_id: str, flow: str) -> datetime:
    async with t.engine.store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return next(p.due_at for p in await plan_for(session, person) if p.flow == flow)


async def start_midpoint(t: Transcript, person_id: str = "tanvir") -> None:
    t.now = await due(t, person_id, "midpoint")
    await t.start(person_id, "midpoint")
    t.expect(person_id, "halfway through your exchange")


async def answer_until_the_bot_stops_asking(t: Transcript, person_id: str, answers: dict[str, str]) -> str:
    """Answer each question by the fragment it contains; return the notice that ends the run."""
    while True:
        messages = t.unread(person_id)
        assert messages, "the bot went silent"
        last = messages[-1]
        if last.kind != "question":
            return last.text
        fragment = next(f for f in answers if f in last.text)
        await t.send(person_id, answers.pop(fragment))


async def open_conversation(t: Transcript, person_id: str) -> Conversation:
    async with t.engine.store.session() as session:
        conv = (
            await session.exec(
                select(Conversation).where(Conversation.person_id == person_id, Conversation.status == "open")
            )
        ).one()
        return conv


async def test_whole_midpoint_flow_spread_over_working_days(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    q = t.expect_question("tanvir", "What have you observed at Krousar Yoeung")
    # Eleven questions, the support note that may never be asked included (bot.progress).
    assert q.progress_label == "Midpoint reflection · 1 of 11"
    assert q.goals == (FAMILY_PRACTICES,)
    await t.send("tanvir", "Mothers' groups meet under the village tree.")
    q = t.expect_question("tanvir", f"Your learning goal: “{FAMILY_PRACTICES}”")
    assert q.goal == FAMILY_PRACTICES
    await t.send("tanvir", "Cooking demonstrations teach more than leaflets.")
    # Where they stand on that goal now, and why: the same scale as at the welcome and the end.
    q = t.expect_question("tanvir", f"Where do you stand today with your learning goal “{FAMILY_PRACTICES}”")
    assert q.goal == FAMILY_PRACTICES
    await t.send("tanvir", "3")
    t.expect_question("tanvir", "In one line: why that number")
    await t.send("tanvir", "Two villages trained, three to go.")
    t.expect("tanvir", "That is all for today", "10:00")
    t.expect_nothing("tanvir")

    # Each next group waits for the next working day of the host (Cambodia), 10:00 local.
    asked_days: list[date] = [t.now.astimezone(PHNOM_PENH).date()]
    answers = {
        "What have you achieved": "Ran two trainings.",
        "What are your next steps": "Visit the provincial office.",
        "Which new opportunities": "A joint manual.",
        "biggest “aha” moment": "Grandmothers decide what children eat.",
        "May the panel hear this?": "2",
        "Do you need support": "2",
        "What would you like your coordinator to know?": "My visa needs renewing.",
    }
    while True:
        conv = await open_conversation(t, "tanvir")
        assert conv.next_group_at is not None
        local = conv.next_group_at.astimezone(PHNOM_PENH)
        assert (local.hour, local.minute) == (10, 0)
        assert local.weekday() < 5 and local.date() not in holidays.country_holidays("KH", years=local.year)
        await t.at(conv.next_group_at - timedelta(minutes=1))
        t.expect_nothing("tanvir")
        await t.at(conv.next_group_at)
        asked_days.append(local.date())
        closing = await answer_until_the_bot_stops_asking(t, "tanvir", answers)
        if "complete" in closing:
            break
    assert len(asked_days) == 5 and asked_days == sorted(set(asked_days))

    async with t.engine.store.session() as session:
        support = (
            await session.exec(select(SupportRequest).where(SupportRequest.person_id == "tanvir"))
        ).one()
        assert support.text == "My visa needs renewing."
        aha = (await session.exec(select(AhaMoment).where(AhaMoment.person_id == "tanvir"))).one()
        assert (aha.text, aha.consent) == ("Grandmothers decide what children eat.", "anonymous")
    # Both of the partnership's coordinators hear of it, each in their own language.
    ingrid = t.sender.to("ingrid")[-1]
    farhana = t.sender.to("farhana")[-1]
    assert ingrid.kind == farhana.kind == "alert"
    assert "My visa needs renewing." in ingrid.text and "Tanvir Hossain" in ingrid.text
    export = await export_person(t.engine.store, "tanvir")
    assert len(export["reflections"]) == 11
    assert export["reflections"][1]["question"].startswith(f"Your learning goal: “{FAMILY_PRACTICES}”")
    assert export["reflections"][1]["answer"] == "Cooking demonstrations teach more than leaflets."
    assert {
        "question": "Do you need support from your coordinator?",
        "answer": "Yes, contact me",
    }.items() <= export["reflections"][9].items()


async def test_late_click_on_an_earlier_question_answers_that_question(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    first = t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "Everyone walks to work.")
    second = t.expect_question("tanvir", "Your learning goal")
    # Days later, the person goes back to the first message and answers it again.
    t.now += timedelta(days=3)
    await t.send("tanvir", "Actually: the clinic opens at 6.", question_id=first.question_id)
    t.expect("tanvir", "Noted: your answer to “What have you observed", "the clinic opens at 6")
    # The open question is untouched and a plain reply still answers it.
    await t.send("tanvir", "Goal progress: two villages trained.")
    export = await export_person(t.engine.store, "tanvir")
    by_question = {r["question"]: r["answer"] for r in export["reflections"]}
    assert by_question[first.text] == "Actually: the clinic opens at 6."
    assert by_question[second.text] == "Goal progress: two villages trained."


async def test_pause_holds_every_prompt_until_resume(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "pause until 2027-06-01")
    t.expect("tanvir", "Paused until")
    await t.send("tanvir", "Everyone walks.")  # an answer while paused is kept
    await t.later(days=14)
    t.expect_nothing("tanvir")
    await t.send("tanvir", "resume")
    t.expect("tanvir", "Welcome back")
    t.expect_question("tanvir", "Your learning goal")  # the current question, once
    t.expect_nothing("tanvir")


async def test_skip_leaves_a_question_out(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "skip")
    t.expect("tanvir", "Skipped")
    t.expect_question("tanvir", "Your learning goal")
    export = await export_person(t.engine.store, "tanvir")
    assert export["reflections"] == []


async def test_all_now_asks_every_remaining_question_at_once(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "all-now")
    t.expect("tanvir", "all remaining questions now")
    for reply in ("a", "b", "4", "c", "d", "e", "f", "g", "3", "1"):
        await t.send("tanvir", reply)
    texts = [m.text for m in t.unread("tanvir")]
    assert not any("That is all for today" in text for text in texts)
    assert "Thank you! Your midpoint reflection is complete." in texts[-1]


async def test_correct_changes_an_earlier_answer(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "Wrong answer.")
    t.expect_question("tanvir", "Your learning goal")
    await t.send("tanvir", "correct")
    t.expect("tanvir", "Which answer do you want to change?", "1. What have you observed", "Wrong answer.")
    await t.send("tanvir", "correct 1")
    again = t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "Right answer.")
    t.expect("tanvir", "Noted", "Right answer.")
    t.expect_question("tanvir", "Your learning goal")  # back where we were
    export = await export_person(t.engine.store, "tanvir")
    assert [r["answer"] for r in export["reflections"]] == ["Right answer."]
    assert export["reflections"][0]["question"] == again.text


async def test_consent_can_be_changed_later(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    await t.send("tanvir", "all-now")
    for reply in ("a", "b", "4", "c", "d", "e", "f", "Feeding is a family decision.", "1", "1"):
        await t.send("tanvir", reply)
    export = await export_person(t.engine.store, "tanvir")
    assert export["aha_moments"] == [
        {
            "text": "Feeding is a family decision.",
            "kind": "aha",
            "consent": "named",
            "panel": None,
            "created_at": export["aha_moments"][0]["created_at"],
        }
    ]
    t.unread("tanvir")
    await t.send("tanvir", "consent")
    t.expect("tanvir", "1. “Feeding is a family decision.” → Share with my name")
    await t.send("tanvir", "consent 1 private")
    t.expect("tanvir", "Changed", "Don't share")
    export = await export_person(t.engine.store, "tanvir")
    assert export["aha_moments"][0]["consent"] == "private"


async def test_bengali_speaker_gets_bengali_prompts(transcript: Transcript) -> None:
    t = transcript
    t.now = await due(t, "rina", "midpoint")
    await t.start("rina", "midpoint")
    intro = t.expect("rina")
    assert intro.language == "bn"
    first = t.expect_question("rina")
    # Bengali script, and not the English text.
    assert any("\u0980" <= ch <= "\u09ff" for ch in first.text)
    assert "What have you observed" not in first.text
    assert "Sahaj Community Hospital" in first.text
    await t.send("rina", "পর্যবেক্ষণ")
    goal = t.expect_question(
        "rina", "Form self-reliance groups that help women save money for healthcare costs"
    )
    assert any("\u0980" <= ch <= "\u09ff" for ch in goal.text)


async def test_someone_unknown_gets_a_polite_answer_and_nothing_is_stored(transcript: Transcript) -> None:
    t = transcript
    before = await table_rows(t.engine.store)
    replies = await t.send(
        "nobody", "Hello, can I join?", platform="slack", user="U0STRANGER", event_id="Ev1"
    )
    assert len(replies) == 1 and "I do not know you yet" in replies[0].text
    assert await table_rows(t.engine.store) == before


async def test_a_platform_retry_of_the_same_event_is_stored_once(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    for _ in range(2):
        await t.send(
            "tanvir", "Once.", platform="teams", user="1a7c9e3b-2f4d-4a6b-8c0e-5d3f7b9a1c24", event_id="act-1"
        )
    async with t.engine.store.session() as session:
        count = (await session.exec(select(func.count()).select_from(Answer))).one()
        asked = (
            await session.exec(select(func.count()).select_from(Question).where(Question.status == "asked"))
        ).one()
    assert count == 1 and asked == 1


async def test_share_keeps_an_aha_moment_private_until_consent(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "share")
    t.expect("tanvir", "What is the aha moment you would like to keep?")
    await t.send("tanvir", "Fathers come when the training is at the market.")
    t.expect("tanvir", "Kept.", "consent 1 named")
    await t.send("tanvir", "Back to the question: mothers cook together.")  # answers the open question again
    export = await export_person(t.engine.store, "tanvir")
    assert [(m["text"], m["consent"], m["panel"]) for m in export["aha_moments"]] == [
        # His midpoint (May) is after the spring panel, so no panel is upcoming.
        ("Fathers come when the training is at the market.", "private", None)
    ]
    assert [r["answer"] for r in export["reflections"]] == ["Back to the question: mothers cook together."]
