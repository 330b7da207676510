"""Conversation tests that read as transcripts: send this, expect that."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.messages import Incoming, Outgoing
from bot.plan import plan_for
from storage.models import Conversation, Person
from tests.support import RecordingSender


class Transcript:
    def __init__(self, engine: Engine, deliverer: Deliverer, sender: RecordingSender, now: datetime) -> None:
        self.engine, self.deliverer, self.sender, self.now = engine, deliverer, sender, now
        self._read: dict[str, int] = {}

    async def start(self, person_id: str, flow: str) -> Conversation:
        async with self.engine.store.session() as session:
            person = await session.get(Person, person_id)
            assert person is not None
            planned = next(p for p in await plan_for(session, person) if p.flow == flow)
        conv = await self.engine.start(person_id, planned, self.now)
        assert conv is not None
        await self.deliverer.drain(self.now)
        return conv

    async def send(
        self,
        person_id: str,
        text: str | None = None,
        *,
        question_id: int | None = None,
        values: tuple[str, ...] | None = None,
        platform: str = "console",
        user: str | None = None,
        event_id: str | None = None,
    ) -> list[Outgoing]:
        incoming = Incoming(
            platform, user or person_id, text=text, question_id=question_id, values=values, event_id=event_id
        )
        immediate = await self.engine.handle(incoming, self.now)
        await self.deliverer.drain(self.now)
        return immediate

    async def at(self, moment: datetime) -> None:
        """Move the clock; conversations waiting for their next day's questions continue."""
        self.now = moment
        async with self.engine.store.session() as session:
            waiting = (
                await session.exec(
                    select(Conversation.id).where(
                        Conversation.status == "open", col(Conversation.next_group_at) <= moment
                    )
                )
            ).all()
        for conversation_id in waiting:
            await self.engine.open_next_group(conversation_id, moment)
        await self.deliverer.drain(moment)

    async def later(self, **delta: float) -> None:
        await self.at(self.now + timedelta(**delta))

    def unread(self, person_id: str) -> list[Outgoing]:
        messages = self.sender.to(person_id)
        start = self._read.get(person_id, 0)
        self._read[person_id] = len(messages)
        return messages[start:]

    def expect(self, person_id: str, *fragments: str) -> Outgoing:
        """The next message to the person contains every fragment."""
        messages = self.sender.to(person_id)
        index = self._read.get(person_id, 0)
        assert index < len(messages), f"expected a message to {person_id} containing {fragments}, got none"
        message = messages[index]
        self._read[person_id] = index + 1
        for fragment in fragments:
            assert fragment in message.text, (
                f"expected {fragment!r} in message to {person_id}:\n{message.text}"
            )
        return message

    def expect_question(self, person_id: str, *fragments: str) -> Outgoing:
        message = self.expect(person_id, *fragments)
        assert message.kind == "question" and message.question_id is not None, message
        return message

    def expect_nothing(self, person_id: str) -> None:
        rest = self.unread(person_id)
        assert not rest, f"expected nothing more to {person_id}, got: {[m.text for m in rest]}"
