"""The inbox: a reply is kept on arrival and taken afterwards, oldest first; one that cannot be
taken is set aside without losing it or holding up the others; forgetting someone empties it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Incoming
from bot.privacy import export_person, forget_person
from storage import inbox
from storage.models import InboundEvent

NOW = datetime(2027, 3, 31, 5, 0, tzinfo=UTC)
RINA = "U0RINA0001"


async def rows(engine: Engine) -> list[InboundEvent]:
    async with engine.store.session() as session:
        return list((await session.exec(select(InboundEvent).order_by(InboundEvent.id))).all())  # type: ignore[arg-type]


async def test_a_reply_that_cannot_be_taken_is_set_aside_kept_and_holds_up_no_one(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # A row an older or broken writer left: its payload does not read as a reply.
    assert await inbox.keep(
        engine.store,
        platform="slack",
        user_id=RINA,
        event_id="Ev0BROKEN001",
        payload={"text": "My private words"},
        now=NOW,
    )
    assert (
        await engine.accept(
            Incoming("slack", RINA, text="share Grandmothers decide", event_id="Ev0OK0001", is_command=True),
            NOW,
        )
        == []
    )
    with caplog.at_level(logging.INFO):
        assert await engine.take_waiting(NOW) == 4  # three attempts at the broken one, then the next
    broken, fine = await rows(engine)
    assert (broken.status, broken.attempts, broken.last_error) == ("failed", 3, "TypeError")
    assert broken.payload == {"text": "My private words"}  # set aside, not lost
    assert (fine.status, fine.payload) == ("done", None)
    assert [a["text"] for a in (await export_person(engine.store, "rina"))["aha_moments"]] == [
        "Grandmothers decide"
    ]
    assert "My private words" not in caplog.text and "Grandmothers" not in caplog.text
    # Taking again finds nothing: the failed one stays aside until someone looks at it.
    assert await engine.take_waiting(NOW) == 0


async def test_forgetting_someone_drops_their_replies_still_waiting(engine: Engine) -> None:
    await engine.accept(Incoming("slack", RINA, text="Something personal", event_id="Ev0WAIT0001"), NOW)
    assert [r.status for r in await rows(engine)] == ["pending"]
    counts = await forget_person(engine.store, "rina")
    assert counts["inbox"] == 1
    assert await rows(engine) == []
    assert await engine.take_waiting(NOW) == 0


async def test_replies_are_taken_in_the_order_they_arrived(engine: Engine) -> None:
    for n, text in enumerate(["share First", "share Second", "share Third"]):
        await engine.accept(Incoming("slack", RINA, text=text, event_id=f"Ev0ORDER{n}", is_command=True), NOW)
    assert await engine.take_waiting(NOW, limit=2) == 2
    assert [r.status for r in await rows(engine)] == ["done", "done", "pending"]
    await engine.take_waiting(NOW)
    kept = [a["text"] for a in (await export_person(engine.store, "rina"))["aha_moments"]]
    assert kept == ["First", "Second", "Third"]
