"""Draining the outbox: pending messages are claimed a batch at a time, handed to each person's
adapter (several people side by side, each person's messages in order), and each is marked sent
with the platform's message id as soon as it is; failures are retried with backoff and jitter."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.messages import Delivery, Op, Outgoing
from bot.plan import calendar_for
from bot.ports import DeliveryError, Sender, Unsupported
from storage.db import Store
from storage.identities import ReferenceWrites, watching_references
from storage.models import ChatIdentity, OutboxMessage, OutboxStatus, Person
from storage.outbox import Unsettled, claim_many, due, earliest_unsettled, record_many, release

logger = logging.getLogger(__name__)

# Where a prompt goes when a person has several identities (DESIGN.md): Slack, then Teams.
PLATFORM_ORDER = ("slack", "teams")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
# Messages claimed at once, and people served side by side: platform calls wait on the network,
# so a handful in flight keeps the fan-out bound by the platforms' limits, not by us.
BATCH = 200
CONCURRENCY = 8
# How long a sender waits for another to finish a person's earlier message before giving the
# later ones back (a send takes well under a second unless the platform is slow).
WAIT_FOR_OTHERS = 10.0
# Passes of one drain over the outbox at most, when lanes give messages back to each other.
PASSES = 10


@dataclass(frozen=True)
class Reach:
    """How one of a person's chat identities is reached."""

    external_id: str
    reference: dict[str, Any] | None


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    held: int = 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Outcomes:
    """How sends went, written together (group commit): while one lane's write is on its way,
    the outcomes other lanes reach meanwhile wait and go in the next write, one statement for
    all. Each lane still waits until its own outcome is stored before it sends the person's
    next message, so a crash repeats at most the messages in flight, as before; at a fan-out
    the lanes side by side share one write instead of each making its own."""

    def __init__(self, store: Store, worker: str) -> None:
        self.store, self.worker = store, worker
        self._waiting: list[tuple[int, dict[str, object], asyncio.Future[None]]] = []
        self._writing = asyncio.Lock()

    async def write(self, message_id: int, values: dict[str, object]) -> None:
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, values, mine))
        async with self._writing:
            if not mine.done():
                batch, self._waiting = self._waiting, []
                try:
                    await record_many(self.store, self.worker, [(m, v) for m, v, _ in batch])
                except BaseException as exc:
                    failure = exc if isinstance(exc, Exception) else RuntimeError("outcome write cancelled")
                    for _, _, waiter in batch:
                        if waiter is not mine and not waiter.done():
                            waiter.set_exception(failure)
                    raise
                for _, _, waiter in batch:
                    if not waiter.done():
                        waiter.set_result(None)
        await mine


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        # Jitter keeps many senders told the same Retry-After from coming back at once.
        return timedelta(seconds=retry_after + random.uniform(0, 0.25 * max(retry_after, 1)))
    base = min(5 * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


class Deliverer:
    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        worker: str = "main",
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.worker = worker
        self.concurrency = concurrency

    async def route(self, person_id: str) -> Delivery | None:
        """Where a message to this person goes now."""
        return (await self._routes({person_id}))[person_id]

    async def release_orphans(self) -> int:
        """Messages claimed by a sender on this host that no longer runs (killed mid-send) go back
        to pending at once instead of waiting out the lease. One may then be sent twice: the one
        that was in flight when the process died."""
        host = self.worker.rpartition(":")[0]
        released = 0
        async with self.store.session() as session:
            rows = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING))
            ).all()
            for row in rows:
                row_host, _, pid = (row.claimed_by or "").rpartition(":")
                if (
                    row_host == host
                    and pid.isdigit()
                    and not _alive(int(pid))
                    and row.claimed_by != self.worker
                ):
                    row.status, row.claimed_by, row.claimed_at = OutboxStatus.PENDING, None, None
                    session.add(row)
                    released += 1
        if released:
            logger.warning("outbox: %d messages claimed by a stopped process released", released)
        return released

    async def _followed(
        self, person_id: str, routes: Mapping[str, Delivery | None], writes: ReferenceWrites
    ) -> Delivery | None:
        """The person's route after a send wrote references: values merged into theirs are
        added to the route at hand; anything else is read again."""
        route = routes.get(person_id)
        if route is None or writes.replaced or set(writes.merged) != {(route.platform, route.address)}:
            return await self.route(person_id)
        merged = writes.merged[(route.platform, route.address)]
        return replace(route, reference={**(route.reference or {}), **merged})

    def route_channel(self, channel: str) -> Delivery | None:
        platform, _, address = channel.partition(":")
        if platform in self.senders:
            return Delivery(platform, address)
        # The terminal is the embedded default: with the channel's platform off, show it there.
        return Delivery("console", channel) if "console" in self.senders else None

    async def _held(self, person_ids: set[str], now: datetime) -> set[str]:
        """Of these people, those whose prompts wait: paused (until a date, or until they write
        resume), forgotten or gone. Read together, once a batch."""
        if not person_ids:
            return set()
        held: set[str] = set()
        async with self.store.reading() as session:
            people = {
                p.id: p
                for p in (await session.exec(select(Person).where(col(Person.id).in_(person_ids)))).all()
            }
            for person_id in person_ids:
                person = people.get(person_id)
                if person is None or person.forgotten:
                    held.add(person_id)
                elif person.paused and (
                    person.paused_until is None
                    or (await calendar_for(session, person)).local_date(now) < person.paused_until
                ):
                    held.add(person_id)
        return held

    async def _routes(self, person_ids: set[str]) -> dict[str, Delivery | None]:
        # One statement (a consistent read on its own), on a lane's pinned connection when
        # there is one: the route is read again before each of a person's later messages.
        async with self.store.one_statement() as connection:
            rows = (
                await connection.execute(
                    select(
                        ChatIdentity.person_id,
                        ChatIdentity.platform,
                        ChatIdentity.external_id,
                        ChatIdentity.reference,
                    ).where(col(ChatIdentity.person_id).in_(person_ids))
                )
            ).all()
        identities: dict[str, dict[str, Reach]] = {}
        for person, platform, external_id, reference in rows:
            identities.setdefault(person, {})[platform] = Reach(external_id, reference)
        return {p: self._route(p, identities.get(p, {})) for p in person_ids}

    def _route(self, person_id: str, identities: Mapping[str, Reach]) -> Delivery | None:
        for platform in PLATFORM_ORDER:
            if platform in self.senders and platform in identities:
                identity = identities[platform]
                return Delivery(platform, identity.external_id, identity.reference)
        if "console" in self.senders:
            return Delivery("console", person_id)
        return None

    async def drain(
        self, now: datetime, person_id: str | None = None, limit: int | None = None
    ) -> DrainResult:
        """Send what is due, in batches, until nothing is (or `limit` messages were looked at).

        People are served side by side, up to `concurrency` at a time, each person's messages
        claimed together just before they are sent and sent one after another in their order; a
        message that must wait for a retry gives the person's later ones back to the outbox.
        Each outcome is written as soon as it is known, so a crash repeats at most the messages
        that were in flight.
        """
        result = DrainResult()
        looked_at = 0
        for _ in range(PASSES):
            after, again = 0, False
            while limit is None or looked_at < limit:
                size = BATCH if limit is None else min(BATCH, limit - looked_at)
                async with self.store.reading() as session:
                    rows = await due(session, now, LEASE, person_id=person_id, limit=size, after=after)
                if not rows:
                    break
                looked_at += len(rows)
                after = max(r.id or 0 for r in rows)
                again = await self._drain_batch(rows, now, result) or again
                if len(rows) < size:
                    break
            # A pass goes through the outbox once; what a lane gave back for another sender's
            # message of the same person is due again, and nobody else may come back for it.
            if not again:
                break
        return result

    async def _drain_batch(self, rows: list[OutboxMessage], now: datetime, result: DrainResult) -> bool:
        """Send a batch; True when a lane gave messages back that are due again now."""
        held = await self._held({r.person_id for r in rows if r.person_id}, now)
        lanes: dict[str, list[tuple[OutboxMessage, Outgoing]]] = {}
        for row in rows:
            payload = Outgoing.from_json(row.payload)
            if row.person_id in held and not payload.always:
                result.held += 1
                continue
            lanes.setdefault(row.person_id or f"channel:{row.channel}", []).append((row, payload))
        claimed, earliest = await self._claim(lanes, now, held)
        routes = await self._routes({r.person_id for r in rows if r.person_id})
        gate = asyncio.Semaphore(self.concurrency)
        outcomes = Outcomes(self.store, self.worker)
        again = False

        async def serve(lane: list[tuple[OutboxMessage, Outgoing]]) -> None:
            nonlocal again
            mine = [(row, payload) for row, payload in lane if row.id in claimed]
            if not mine:
                return
            async with gate:
                person_id = mine[0][0].person_id
                in_order = person_id is not None and person_id not in held
                if in_order and person_id is not None:
                    mine, due_again = await self._in_order(mine, earliest.get(person_id), now)
                    again = again or due_again
                unsettled = [row.id for row, _ in mine if row.id is not None]
                try:
                    # The sender's pacing statements and the lane's outcomes, on one connection.
                    async with self.store.pinned():
                        for index, (row, payload) in enumerate(mine):
                            following = len(mine) - index - 1
                            with watching_references() as writes:
                                went_on = await self._send_one(
                                    row, payload, now, result, routes, outcomes, following
                                )
                            if writes and row.person_id:
                                # The send changed the person's address (opened a Slack DM, made
                                # a new Teams 1:1 for a refused one): their next message follows.
                                routes[row.person_id] = await self._followed(row.person_id, routes, writes)
                            assert row.id is not None
                            unsettled.remove(row.id)
                            if not went_on:
                                break
                finally:
                    # What the lane claimed and did not get to (behind a retry, or the drain was
                    # cancelled) goes back to the outbox at once, not after the lease.
                    if unsettled:
                        async with self.store.session() as session:
                            await release(session, unsettled, self.worker)

        async with asyncio.TaskGroup() as group:
            for lane in lanes.values():
                group.create_task(serve(lane))
        return again

    async def _claim(
        self, lanes: dict[str, list[tuple[OutboxMessage, Outgoing]]], now: datetime, held: set[str]
    ) -> tuple[set[int], dict[str, Unsettled]]:
        """Claim the batch's messages, and read each person's earliest message that is still
        unsent and not among them, in one transaction (two statements for the whole batch)."""
        ids = [row.id for lane in lanes.values() for row, _ in lane if row.id is not None]
        people = {row.person_id for lane in lanes.values() for row, _ in lane if row.person_id} - held
        async with self.store.session() as session:
            claimed = await claim_many(session, ids, self.worker, LEASE, now)
            earliest = await earliest_unsettled(session, people, claimed, self.worker, now) if claimed else {}
        return claimed, earliest

    async def _in_order(
        self, mine: list[tuple[OutboxMessage, Outgoing]], earlier: Unsettled | None, now: datetime
    ) -> tuple[list[tuple[OutboxMessage, Outgoing]], bool]:
        """Of a person's claimed messages, the ones that may go now: up to the first of theirs
        another sender has in hand (waited for a little when it comes before them all). The
        rest go back to the outbox, so that nothing overtakes anything; the flag says some of
        it is due again at once (and wants another pass of the drain)."""
        person_id = mine[0][0].person_id
        assert person_id is not None
        claimed = {row.id for row, _ in mine if row.id is not None}
        first_mine = min(claimed)
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_OTHERS
        while True:
            if earlier is None:
                return mine, False
            if earlier.id > first_mine:
                # Another sender has one between these (PostgreSQL's SKIP LOCKED split the
                # claim): the ones before it go now, the rest after it.
                after_it = sorted(i for i in claimed if i > earlier.id)
                if after_it:
                    async with self.store.session() as session:
                        await release(session, after_it, self.worker)
                return [(row, payload) for row, payload in mine if (row.id or 0) < earlier.id], bool(after_it)
            timed_out = asyncio.get_running_loop().time() >= deadline
            if not earlier.in_flight or timed_out:
                async with self.store.session() as session:
                    await release(session, sorted(claimed), self.worker)
                # Behind one that waits for its retry they wait too; behind one that is due
                # and nobody had in hand a moment ago, they are looked at again.
                return [], not (earlier.waiting or timed_out)
            await asyncio.sleep(0.05)
            async with self.store.reading() as session:
                earlier = (await earliest_unsettled(session, {person_id}, claimed, self.worker, now)).get(person_id)

    async def _introduction(self, delivery: Delivery, payload: Outgoing) -> tuple[Delivery, Outgoing]:
        """An introduction carries where the others are reached; a sender that cannot introduce
        people to each other gets it as a message (its text names them)."""
        if Op.INTRODUCE not in self.senders[delivery.platform].supports:
            return delivery, replace(payload, op=Op.MESSAGE)
        routes = await self._routes({c.person_id for c in payload.companions})
        companions = tuple((c.person_id, routes.get(c.person_id)) for c in payload.companions)
        return replace(delivery, companions=companions), payload

    async def _send_one(
        self,
        row: OutboxMessage,
        payload: Outgoing,
        now: datetime,
        result: DrainResult,
        routes: dict[str, Delivery | None],
        outcomes: Outcomes,
        following: int = 0,
    ) -> bool:
        """Send one message; False when it waits for a retry (the person's later ones wait too)."""
        if row.channel:
            delivery = self.route_channel(row.channel)
        else:
            delivery = routes.get(row.person_id) if row.person_id else None
        if delivery is not None and following:
            delivery = replace(delivery, following=following)
        message_id: str | None = None
        error: DeliveryError | None = None
        if delivery is not None and payload.op is Op.INTRODUCE:
            delivery, payload = await self._introduction(delivery, payload)
        if delivery is None:
            error = DeliveryError("no platform configured reaches this person", permanent=True)
        elif payload.op not in self.senders[delivery.platform].supports:
            error = Unsupported(delivery.platform, payload.op)
        else:
            try:
                message_id = await self.senders[delivery.platform].send(delivery, payload)
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # an adapter bug or a network fault: retry, never lose the row
                logger.exception("outbox %s: %s sender raised", row.id, delivery.platform)
                error = DeliveryError(type(exc).__name__)
        attempts = row.attempts + (1 if error is None or error.attempted else 0)
        values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "claimed_at": None}
        if error is None:
            assert delivery is not None
            values.update(
                status=OutboxStatus.SENT,
                sent_at=now,
                platform=delivery.platform,
                platform_message_id=message_id,
            )
            result.sent += 1
        elif isinstance(error, Unsupported):
            # Nothing went wrong: the platform has no such thing (a home view in Teams).
            values.update(status=OutboxStatus.SKIPPED, last_error=error.reason)
        elif error.permanent or attempts >= MAX_ATTEMPTS:
            values.update(status=OutboxStatus.FAILED, last_error=error.reason)
            result.failed += 1
            logger.warning("outbox %s to %s failed for good: %s", row.id, row.person_id, error.reason)
        else:
            values.update(
                status=OutboxStatus.PENDING,
                last_error=error.reason,
                not_before=now + backoff(attempts, error.retry_after),
            )
            result.retried += 1
            logger.info("outbox %s to %s: retry %d later: %s", row.id, row.person_id, attempts, error.reason)
        assert row.id is not None
        await outcomes.write(row.id, values)
        # Only a message waiting for its retry holds back the person's later ones.
        return values["status"] != OutboxStatus.PENDING
