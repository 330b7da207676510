"""A person's messages split between two senders (as PostgreSQL's SKIP LOCKED splits a claim when
replicas claim together) still reach the person in their order, and none is left behind when
the drain ends."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlmodel import col, select

from bot.delivery import LEASE, Deliverer
from bot.messages import Delivery, Outgoing
from storage.db import Store
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import claim_many, enqueue, record_many
from tests.support import RecordingSender

NOW = datetime.fromisoformat("2027-03-31T04:15:00+00:00")


class EventSender(RecordingSender):
    """Records each send in a list the other sender writes to as well: the order Rina saw."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.seen.append(message.text)
        return await super().send(delivery, message)


async def test_a_message_another_sender_has_in_hand_is_not_overtaken_and_the_ones_after_it_still_go(
    programme: Store,
) -> None:
    async with programme.session() as session:
        for n in (1, 2, 3):
            payload = Outgoing(person_id="rina", text=f"message {n}").to_json()
            await enqueue(session, key=f"order:{n}", person_id="rina", payload=payload, now=NOW)
    async with programme.reading() as session:
        ids = list((await session.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id)))).all())
    first, second, third = (i for i in ids if i is not None)
    # Another replica took the second one for itself and is sending it now.
    async with programme.session() as session:
        assert await claim_many(session, [second], "other replica", LEASE, NOW) == {second}

    seen: list[str] = []
    deliverer = Deliverer(programme, {"console": EventSender(seen)}, worker="this replica")
    drain = asyncio.create_task(deliverer.drain(NOW))
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)
    assert seen == ["message 1"], "the third went out while the second was still on its way"

    seen.append("message 2")  # the other replica's send reaches Rina, and it says so
    await record_many(programme, "other replica", [(second, {"status": OutboxStatus.SENT})])
    result = await asyncio.wait_for(drain, 30)

    assert seen == ["message 1", "message 2", "message 3"]
    assert result.sent == 2
    async with programme.reading() as session:
        statuses = (await session.exec(select(OutboxMessage.status).order_by(col(OutboxMessage.id)))).all()
    assert statuses == [OutboxStatus.SENT] * 3
    assert first < second < third
