"""Many conversations started at once: on a programme's midpoint morning a sweep may start one for
each of thousands of people. They are started as `bot.conversation.start` starts one, by the same
code, but a batch of people at a time in one transaction: their locks, goals, coordinators and
open conversations read in one statement each, their conversations and questions inserted in one
statement each, and their messages written to the outbox in one more.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import new_conversation, open_unless_later
from bot.flows import FLOWS
from bot.i18n import Translator
from bot.plan import Planned
from bot.questions import question_rows
from bot.turn import Turn
from storage.conversations import add_conversations, add_questions, existing_keys, open_conversations
from storage.outbox import write_many
from storage.people import coordinators_of_many, goals_of_many, people_for_update

logger = logging.getLogger(__name__)

# People per transaction: large enough that the statements are shared by many, small enough that
# a reply of one of them waits well under a second for the batch's locks.
BATCH = 100


async def start_batch(
    session: AsyncSession, translator: Translator, starts: list[tuple[str, list[Planned]]], now: datetime
) -> dict[str, set[str]]:
    """Start each person's planned conversations (in plan order) unless they exist; returns, per
    person still in the programme, the keys of those that exist now."""
    people = await people_for_update(session, [person_id for person_id, _ in starts])
    wanted = [(people[pid], plans) for pid, plans in starts if pid in people and people[pid].in_programme]
    ids = [person.id for person, _ in wanted]
    # Read after the locks: a conversation created by another process before them is left alone.
    taken = await existing_keys(session, [p.key for _, plans in wanted for p in plans])
    goals = await goals_of_many(session, ids)
    coordinators = await coordinators_of_many(
        session, sorted({person.partnership_id for person, _ in wanted if person.partnership_id})
    )
    open_now = await open_conversations(session, ids)

    outbox: list[dict[str, Any]] = []
    turns: list[Turn] = []
    fresh: list[Planned] = []
    for person, plans in wanted:
        for planned in plans:
            if planned.key in taken:
                continue
            turn = await Turn.begin(session, person, now, translator, f"start:{planned.key}", outbox)
            turns.append(turn.knowing(goals=goals[person.id], coordinators=coordinators.get(person.partnership_id or "", [])))
            fresh.append(planned)
    conversations = await add_conversations(
        session, [new_conversation(t, p) for t, p in zip(turns, fresh, strict=True)]
    )
    rows = [await question_rows(t, c, FLOWS[c.flow]) for t, c in zip(turns, conversations, strict=True)]
    made = await add_questions(session, [row for some in rows for row in some])
    for turn, conv in zip(turns, conversations, strict=True):
        assert conv.id is not None
        turn.knowing(questions={conv.id: made.get(conv.id, [])})

    begun: set[str] = set()
    for turn, conv in zip(turns, conversations, strict=True):
        person_id = turn.person.id
        logger.info("conversation %s (%s) created for %s", conv.id, conv.flow, person_id)
        # What was open is known for a person's first start; after it, only a read can say (a
        # conversation without questions finishes at once and opens whatever comes next).
        if person_id in begun:
            current = await turn.open_conversation()
        else:
            current = open_now.get(person_id)
            begun.add(person_id)
        await open_unless_later(turn, conv, current)
    await write_many(session, outbox)
    return {person.id: {p.key for p in plans} for person, plans in wanted}
