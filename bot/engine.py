"""The conversation engine: start a flow for a person, take a reply, decide the next prompt.

Everything a conversation knows lives in storage; every message goes to the outbox in the same
transaction that changed the state, so a crash loses neither a reply nor a prompt.

This is the core's front door and the place it is put together. Each reply or sweep becomes a
`bot.turn.Turn`; `bot.routing` decides what a reply is; `bot.conversation` opens, advances and
closes conversations; `bot.answers` keeps answers; `bot.commands` and the buttons of
`bot.actions` (and of `bot.support`, which `bot.routing` imports) do the rest.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot import conversation
from bot import starts as starts_batch
from bot.i18n import N_, Translator
from bot.messages import Incoming, Op, Outgoing
from bot.plan import Planned
from bot.routing import take
from bot.turn import Turn
from storage import inbox
from storage.db import Store
from storage.models import Conversation, ConversationStatus
from storage.people import find_person, person_for_update

logger = logging.getLogger(__name__)

UNKNOWN_PERSON = N_(
    "Hello! I do not know you yet, so I have not kept anything you wrote. If you are on an "
    "exchange programme, please ask your coordinator to add you."
)


class Engine:
    def __init__(self, store: Store, translator: Translator | None = None) -> None:
        self.store = store
        self.translator = translator or Translator()

    async def handle(self, incoming: Incoming, now: datetime) -> list[Outgoing]:
        """Take a reply at once: `accept` it, then `take_waiting` (the demo's simulated people and
        tests; platforms accept, and the server's work loop takes).

        Returns messages to send at once without storing them: only the answer to someone the
        programme does not know, for whom nothing is kept.
        """
        replies = await self.accept(incoming, now)
        await self.take_waiting(now)
        return replies

    async def accept(self, incoming: Incoming, now: datetime) -> list[Outgoing]:
        """Keep what a person sent, as it is, in the inbox, in one statement, so the platform can
        be answered at once and nothing is lost if the process dies after that. A platform's
        retry of the same event id is a no-op. `take_waiting` then does the work.

        Returns the answer to someone the programme does not know (nothing of theirs is stored).
        """
        kept = await inbox.keep(
            self.store,
            platform=incoming.platform,
            user_id=incoming.user_id,
            event_id=incoming.event_id or f"local:{uuid.uuid4()}",
            payload=incoming.to_json(),
            now=now,
            by_identity=incoming.platform != "console",
        )
        if kept:
            return []
        async with self.store.session() as session:
            known = await find_person(session, incoming.platform, incoming.user_id) is not None
        if known:
            logger.info("event %s/%s already taken; ignored", incoming.platform, incoming.event_id)
            return []
        return [Outgoing(person_id="", text=self.translator.gettext("en", UNKNOWN_PERSON), always=True)]

    async def take_waiting(
        self, now: datetime, pause: Callable[[], Awaitable[None]] | None = None, limit: int | None = None
    ) -> int:
        """Take the replies waiting in the inbox (all, or up to `limit`), oldest first; returns how
        many it dealt with.

        Each is taken in one transaction with all it writes (the answer, the next prompt in the
        outbox), as of the moment it arrived, so a crash part-way repeats or loses nothing.
        `pause` is awaited before each one: the server uses it to let the platforms' requests go
        first, since they must be answered within seconds and this can wait.
        """
        taken = 0
        while limit is None or taken < limit:
            if pause is not None:
                await pause()
            if not await self._take_oldest(now):
                break
            taken += 1
        return taken

    async def _take_oldest(self, now: datetime) -> bool:
        """Deal with the oldest waiting reply (take it, or count a failed attempt); False when
        nothing waits."""
        row_id: int | None = None
        try:
            async with self.store.session() as session:
                row = await inbox.oldest_waiting(session)
                if row is None:
                    return False
                row_id, event_id, received_at = row.id, row.event_id, row.received_at
                assert row_id is not None and row.payload is not None
                incoming = Incoming.from_json(row.payload)  # before mark_taken empties it
                # Locked first: another process taking their next reply waits for this one.
                person = await person_for_update(session, row.person_id)
                if not await inbox.mark_taken(session, row_id, now):
                    return True  # another process took it meanwhile
                if person is None or person.forgotten:
                    return True
                turn = await Turn.begin(
                    session, person, received_at, self.translator, f"in:{incoming.platform}:{event_id}"
                )
                await take(turn, incoming)
                if incoming.show_answer:
                    for question_id in dict.fromkeys(turn.answered):
                        await turn.send(
                            Outgoing(
                                person_id=person.id,
                                text="",
                                language=turn.language,
                                question_id=question_id,
                                always=True,
                                op=Op.SHOW_ANSWER,
                                shown_in=incoming.message_id if question_id == incoming.question_id else None,
                            ),
                            f"show-answer:{incoming.platform}:{event_id}:{question_id}",
                        )
                return True
        except Exception as exc:
            if row_id is None:
                raise
            # Only the type: a database error's message may quote what the person wrote.
            async with self.store.session() as session:
                status = await inbox.mark_failed(session, row_id, type(exc).__name__)
            logger.error(
                "inbox: reply %s not taken (%s); now %s\n%s",
                row_id,
                type(exc).__name__,
                status or "gone",
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return True

    async def start(self, person_id: str, planned: Planned, now: datetime) -> Conversation | None:
        async with self.store.session() as session:
            person = await person_for_update(session, person_id)
            if person is None or not person.in_programme:
                return None
            turn = await Turn.begin(session, person, now, self.translator, f"start:{planned.key}")
            return await conversation.start(turn, planned)

    async def start_many(self, starts: list[tuple[str, list[Planned]]], now: datetime) -> dict[str, set[str]]:
        """Start each person's planned conversations (a sweep's: many people at once), a batch of
        people per transaction (`bot.starts`); returns, per person still in the programme, the
        keys of those that exist now. A batch that fails is done again person by person, so that
        what one person's data breaks does not hold back the others."""
        exist: dict[str, set[str]] = {}
        for first in range(0, len(starts), starts_batch.BATCH):
            batch = starts[first : first + starts_batch.BATCH]
            try:
                async with self.store.session() as session:
                    exist |= await starts_batch.start_batch(session, self.translator, batch, now)
                continue
            except Exception as exc:
                logger.warning(
                    "starting %d people's conversations together failed (%s); one by one instead",
                    len(batch),
                    type(exc).__name__,
                )
            for person_id, plans in batch:
                for planned in plans:
                    if await self.start(person_id, planned, now) is not None:
                        exist.setdefault(person_id, set()).add(planned.key)
        return exist

    async def start_next(self, person_id: str, now: datetime) -> Conversation | None:
        """Continue the open conversation now, or start the person's next planned one early."""
        async with self.store.session() as session:
            person = await person_for_update(session, person_id)
            if person is None or not person.in_programme:
                return None
            turn = await Turn.begin(session, person, now, self.translator, f"now@{now.isoformat()}")
            return await conversation.continue_now(turn)

    async def continue_agenda(self, person_id: str, now: datetime) -> bool:
        """Open the next conversation on the person's agenda if none is open; True if one was."""
        async with self.store.session() as session:
            person = await person_for_update(session, person_id)
            if person is None or not person.in_programme:
                return False
            turn = await Turn.begin(session, person, now, self.translator, f"agenda@{now.isoformat()}")
            return await conversation.begin_next(turn) is not None

    async def open_next_group(self, conversation_id: int, now: datetime) -> None:
        async with self.store.session() as session:
            conv = await session.get(Conversation, conversation_id)
            person = await person_for_update(session, conv.person_id) if conv else None
            if conv is None or person is None:
                return
            await session.refresh(conv)  # as it is now that the person is ours
            # Another process may have opened this day meanwhile (or the person asked for it).
            due = conv.next_group_at is not None and conv.next_group_at <= now
            if conv.status != ConversationStatus.OPEN or conv.current_question_id is not None or not due:
                return
            turn = await Turn.begin(session, person, now, self.translator, f"day:{conv.id}:{conv.group}")
            await conversation.next_group(turn, conv)
