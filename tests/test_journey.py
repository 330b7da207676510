"""The learning journey (issue 17): where each participant stands on each of their learning goals at
the welcome (the baseline), the midpoint and the end."""

from __future__ import annotations

from sqlmodel import col, select

from bot.plan import plan_for
from storage.models import Answer, Conversation, Person, Question
from tests.transcript import Transcript

SOKHA_GOALS = {"family-practices", "adapt-training-manuals"}


async def live_through(t: Transcript, person_id: str, flow: str, ratings: dict[str, str]) -> list[Question]:
    """Start the person's planned conversation when it falls due and answer every question it asks
    (a goal's rating from `ratings`, anything else with a line of text), day after day; the
    questions it asked, in order."""
    async with t.engine.store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        planned = next(p for p in await plan_for(session, person) if p.flow == flow)
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
        if question.key == "goal_progress":
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
