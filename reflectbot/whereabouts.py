"""Where a person is, for `reflectbot chat --as PERSON` to say before it waits for their words:
reading it opens nothing, so trying the terminal early never starts a real conversation early."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.flows import FLOWS
from bot.plan import plan_for
from storage.conversations import conversation_by_key, current_question, open_conversation
from storage.db import Store
from storage.models import Person, Programme

START_EARLY = "write `now` to start it now, `all-now` for every question at once, or `help`"


@dataclass(frozen=True)
class Where:
    waiting_for_answer: bool  # an open conversation waits for an answer: ask it again
    line: str


def _local(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)).strftime('%a %Y-%m-%d %H:%M')} ({zone})"


async def where_is(store: Store, person_id: str, now: datetime) -> Where | None:
    """None for someone the programme does not know (or who was forgotten)."""
    async with store.reading() as session:
        person = await session.get(Person, person_id)
        if person is None or person.forgotten:
            return None
        programme = await session.get(Programme, person.programme_id)
        zone = person.timezone or (programme.timezone if programme else "UTC")
        conv = await open_conversation(session, person_id)
        if conv is not None:
            title = FLOWS[conv.flow].title
            if await current_question(session, conv) is not None:
                return Where(True, f"{person.name}: {title} is open; its question again:")
            when = f" on {_local(conv.next_group_at, zone)}" if conv.next_group_at else ""
            return Where(False, f"{person.name}: {title} is open, next questions{when}; {START_EARLY}")
        for planned in await plan_for(session, person):
            if planned.expires_at is not None and planned.expires_at <= now:
                continue
            if await conversation_by_key(session, planned.key) is None:
                title = FLOWS[planned.flow].title
                return Where(
                    False,
                    f"{person.name}: nothing open; next: {title} on {_local(planned.due_at, zone)}; {START_EARLY}",
                )
        return Where(False, f"{person.name}: nothing open and nothing more planned; `help` lists what you can write")
