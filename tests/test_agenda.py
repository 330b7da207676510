"""A person's agenda: a panel preparation reaches a presenter before the panel even while their
midpoint reflection is open; the midpoint waits and resumes where it was."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.delivery import Deliverer
from bot.home import InProgress, home_for
from bot.i18n import Translator
from bot.messages import Outgoing
from bot.plan import Planned, plan_for
from bot.reports.digest import build_digest, render_text
from scheduler.sweeps import Sweeps
from storage.models import Answer, Conversation, Person, Question
from tests.support import RecordingSender
from tests.transcript import Transcript

PERSON = "tanvir"
PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
REPLY = {"text": "An answer.", "single": "1", "multi": "1", "scale": "4"}


async def due(t: Transcript, flow: str) -> Planned:
    async with t.engine.store.session() as session:
        person = await session.get(Person, PERSON)
        assert person is not None
        return next(p for p in await plan_for(session, person) if p.flow == flow)


async def answer_while(t: Transcript, flow: str) -> list[Outgoing]:
    """Answer every question of `flow` as it comes; return what followed the last answer."""
    while True:
        messages = t.unread(PERSON)
        questions = [m for m in messages if m.kind == "question"]
        if not questions or questions[-1].flow != flow:
            return messages
        await t.send(PERSON, REPLY[questions[-1].question_kind or "text"])


async def statuses(t: Transcript) -> dict[str, str]:
    async with t.engine.store.session() as session:
        rows = (await session.exec(select(Conversation).where(Conversation.person_id == PERSON))).all()
        return {c.flow: c.status for c in rows}


async def test_panel_preparation_goes_before_an_open_midpoint_which_then_resumes(
    transcript: Transcript,
) -> None:
    t = transcript
    prep = await due(t, "panel-prep")
    t.now = prep.due_at - timedelta(days=1)
    await t.start(PERSON, "midpoint")
    t.expect(PERSON, "halfway through your exchange")
    waiting_question = t.expect_question(PERSON, "What have you observed")
    # Not answered: on the preparation day the midpoint is still open.
    t.now = prep.due_at
    await t.start(PERSON, "panel-prep")
    t.expect(PERSON, "First the Panel preparation", "Your Midpoint reflection waits")
    t.expect(PERSON, "Spring learning panel")
    first_prep = t.expect_question(PERSON, "aha")
    assert first_prep.flow == "panel-prep"

    await t.send(PERSON, "status")
    status = t.unread(PERSON)[-1].text
    assert "Panel preparation: 0 of" in status and "Waiting: Midpoint reflection, 0 of 11" in status

    # A typed reply answers the question last asked: the panel's, not the midpoint's.
    await t.send(PERSON, "Grandmothers decide what children eat.")
    async with t.engine.store.session() as session:
        answered = (await session.exec(select(Question).join(Answer))).all()
    assert [q.id for q in answered] == [first_prep.question_id]

    after = await answer_while(t, "panel-prep")
    texts = [m.text for m in after]
    assert any("You are ready for the panel" in x for x in texts), texts
    assert any("Back to your Midpoint reflection" in x for x in texts), texts
    again = [m for m in after if m.kind == "question"]
    assert [m.question_id for m in again] == [waiting_question.question_id]
    assert (await statuses(t))["panel-prep"] == "done"

    # The midpoint goes on and is finished, day by day.
    for _ in range(10):
        await answer_while(t, "midpoint")
        if (await statuses(t))["midpoint"] == "done":
            break
        await t.later(days=1)
        await t.send(PERSON, "now")
    assert (await statuses(t))["midpoint"] == "done"


async def test_a_button_on_the_waiting_midpoint_answers_its_own_question(transcript: Transcript) -> None:
    t = transcript
    prep = await due(t, "panel-prep")
    t.now = prep.due_at - timedelta(days=1)
    await t.start(PERSON, "midpoint")
    waiting_question = t.unread(PERSON)[-1]
    t.now = prep.due_at
    await t.start(PERSON, "panel-prep")
    prep_question = [m for m in t.unread(PERSON) if m.kind == "question"][-1]
    await t.send(PERSON, "Seen at the clinic.", question_id=waiting_question.question_id)
    async with t.engine.store.session() as session:
        answers = {a.question_id: a.text for a in (await session.exec(select(Answer))).all()}
    assert answers == {waiting_question.question_id: "Seen at the clinic."}
    # The panel's question is still the one a typed reply answers.
    await t.send(PERSON, "The key takeaway.")
    async with t.engine.store.session() as session:
        answers = {a.question_id: a.text for a in (await session.exec(select(Answer))).all()}
    assert answers[prep_question.question_id] == "The key takeaway."


async def test_a_midpoint_whose_panel_preparation_expired_overnight_resumes_at_prompt_time(
    transcript: Transcript,
) -> None:
    t = transcript
    sender = RecordingSender()
    sweeps = Sweeps(t.engine, Deliverer(t.engine.store, {"console": sender}))
    prep = await due(t, "panel-prep")
    assert prep.expires_at is not None
    t.now = prep.due_at - timedelta(days=1)
    await t.start(PERSON, "midpoint")
    waiting_question = t.unread(PERSON)[-1]
    t.now = prep.due_at
    await t.start(PERSON, "panel-prep")  # never answered
    # The first sweep after the panel began is at night in Phnom Penh: the preparation
    # expires, and the midpoint does not wake him.
    night = prep.expires_at + timedelta(hours=10)
    assert night.astimezone(PHNOM_PENH).hour >= 20
    await sweeps.run_all(night)
    now_statuses = await statuses(t)
    assert (now_statuses["panel-prep"], now_statuses["midpoint"]) == ("expired", "waiting")
    assert sender.to(PERSON) == []
    morning = datetime.combine(
        night.astimezone(PHNOM_PENH).date() + timedelta(days=1), time(10, 5), tzinfo=PHNOM_PENH
    )
    await sweeps.run_all(morning.astimezone(UTC))
    assert (await statuses(t))["midpoint"] == "open"
    texts = [m.text for m in sender.to(PERSON)]
    assert any("Back to your Midpoint reflection" in x for x in texts), texts
    assert [m.question_id for m in sender.to(PERSON) if m.kind == "question"] == [
        waiting_question.question_id
    ]


async def test_a_waiting_midpoint_still_shows_as_in_progress_to_the_person_and_coordinator(
    transcript: Transcript,
) -> None:
    t = transcript
    prep = await due(t, "panel-prep")
    t.now = prep.due_at - timedelta(days=1)
    await t.start(PERSON, "midpoint")
    await t.send(PERSON, "Mothers' groups meet under the village tree.")
    t.now = prep.due_at
    await t.start(PERSON, "panel-prep")
    assert (await statuses(t))["midpoint"] == "waiting"
    home = await home_for(t.engine.store, PERSON, t.now)
    assert home is not None
    assert sorted((c.flow, c.done) for c in home.coming if isinstance(c, InProgress)) == [
        ("midpoint", 1),
        ("panel-prep", 0),
    ]
    digest = render_text(await build_digest(t.engine.store, "ingrid", t.now), Translator(), "en")
    assert "midpoint reflection in progress, 1 of 11 questions answered" in digest
