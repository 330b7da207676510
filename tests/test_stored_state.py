"""Typed state is stored as the plain strings and JSON it always was, so rows written before it was
typed read the same (no migration) and rows written now read the same to an older reader."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlmodel import select

from bot.messages import Op, Outgoing
from storage import inbox
from storage.models import Question
from storage.pending_actions import Correction, SharedAha, SupportMessage, from_json, to_json
from tests.test_engine_transcripts import start_midpoint
from tests.transcript import Transcript


async def raw(t: Transcript, sql: str) -> list[tuple[object, ...]]:
    async with t.engine.store.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql))).all()]


async def pending_action_of(t: Transcript, person_id: str) -> object:
    ((stored,),) = await raw(t, f"SELECT pending_action FROM person WHERE id = '{person_id}'")
    return json.loads(stored) if isinstance(stored, str) else stored


async def test_a_pending_action_is_stored_as_the_json_it_always_was(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    first = t.expect_question("tanvir", "What have you observed")
    await t.send("tanvir", "support")
    assert await pending_action_of(t, "tanvir") == {"action": "support"}
    await t.send("tanvir", "cancel")
    assert await pending_action_of(t, "tanvir") is None
    await t.send("tanvir", "Everyone walks to work.")
    await t.send("tanvir", "correct 1")
    assert await pending_action_of(t, "tanvir") == {"action": "correct", "question_id": first.question_id}


async def test_a_pending_action_written_before_it_was_typed_is_carried_out(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    t.unread("tanvir")
    async with t.engine.store.engine.begin() as connection:
        await connection.execute(
            text("""UPDATE person SET pending_action = '{"action": "share"}' WHERE id = 'tanvir'""")
        )
    await t.send("tanvir", "Fathers come when the training is at the market.")
    t.expect("tanvir", "Kept.", "consent 1 named")
    assert await pending_action_of(t, "tanvir") is None


async def test_statuses_are_stored_as_their_strings(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    await t.send("tanvir", "skip")
    statuses = await raw(t, "SELECT key, status FROM question WHERE person_id = 'tanvir' ORDER BY position")
    assert statuses[:3] == [("observations", "skipped"), ("learning", "asked"), ("goal_progress", "pending")]
    assert await raw(t, "SELECT status FROM conversation WHERE person_id = 'tanvir'") == [("open",)]
    assert set(await raw(t, "SELECT DISTINCT status FROM outboxmessage WHERE person_id = 'tanvir'")) == {
        ("sent",)
    }


async def test_a_status_it_does_not_know_is_refused(transcript: Transcript) -> None:
    t = transcript
    await start_midpoint(t)
    with pytest.raises(StatementError, match="nearly_done"):
        async with t.engine.store.session() as session:
            question = (await session.exec(select(Question).where(Question.person_id == "tanvir"))).first()
            assert question is not None
            question.status = "nearly_done"  # type: ignore[assignment]  # what the column must refuse
            session.add(question)


def test_pending_actions_read_back_as_written() -> None:
    for pending in (SupportMessage(), SharedAha(), Correction(12)):
        assert from_json(to_json(pending)) == pending
    assert from_json(None) is None
    assert from_json({"action": "dance"}) is None


async def test_a_reply_kept_before_operations_were_typed_is_still_taken(transcript: Transcript) -> None:
    """A reply waiting in the inbox when reflectbot is upgraded was written in the old shape
    (a Slack `receipt`): it is answered, not set aside, and the clicked message still shows it."""
    t = transcript
    await start_midpoint(t)
    first = t.expect_question("tanvir", "What have you observed")
    old = {
        "platform": "console",
        "user_id": "tanvir",
        "text": "Everyone walks to work.",
        "question_id": first.question_id,
        "values": None,
        "action": None,
        "event_id": "old-1",
        "is_command": False,
        "receipt": {"slack": {"op": "update", "message": "D0TANVIR01:1806400700.000100"}},
    }
    assert await inbox.keep(
        t.engine.store,
        platform="console",
        user_id="tanvir",
        event_id="old-1",
        payload=old,
        now=t.now,
        by_identity=False,
    )
    assert await t.engine.take_waiting(t.now) == 1
    assert await raw(t, "SELECT status FROM inboundevent WHERE event_id = 'old-1'") == [("done",)]
    answers = await raw(t, f"SELECT text FROM answer WHERE question_id = {first.question_id}")
    assert answers == [("Everyone walks to work.",)]
    shown = [
        Outgoing.from_json(json.loads(p) if isinstance(p, str) else p)
        for (p,) in await raw(t, "SELECT payload FROM outboxmessage WHERE key LIKE 'show-answer:%'")
    ]
    assert [(m.op, m.question_id, m.shown_in) for m in shown] == [
        (Op.SHOW_ANSWER, first.question_id, "D0TANVIR01:1806400700.000100")
    ]


def test_an_outbox_row_written_before_operations_were_typed_still_does_its_operation() -> None:
    home = Outgoing.from_json({"person_id": "rina", "text": "", "extra": {"slack": {"op": "home"}}})
    update = Outgoing.from_json(
        {
            "person_id": "rina",
            "text": "",
            "question_id": 7,
            "extra": {"slack": {"op": "update", "message": "D1:2"}},
        }
    )
    digest = Outgoing.from_json(
        {"person_id": "ingrid", "text": "x", "kind": "digest", "extra": {"markdown": "*x*"}}
    )
    assert (home.op, update.op, update.shown_in, digest.op, digest.markdown) == (
        Op.PUBLISH_HOME,
        Op.SHOW_ANSWER,
        "D1:2",
        Op.MESSAGE,
        "*x*",
    )
