"""Draining the outbox: each pending message is claimed, handed to the person's adapter, and
marked sent with the platform's message id; failures are retried with backoff and jitter."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from bot.messages import Delivery, Outgoing
from bot.plan import calendar_for
from bot.ports import DeliveryError, Sender, Unsupported
from storage.db import Store
from storage.models import ChatIdentity, OutboxMessage, OutboxStatus, Person
from storage.outbox import claim, due

logger = logging.getLogger(__name__)

# Where a prompt goes when a person has several identities (DESIGN.md): Slack, then Teams.
PLATFORM_ORDER = ("slack", "teams")
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


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


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        # Jitter keeps many senders told the same Retry-After from coming back at once.
        return timedelta(seconds=retry_after + random.uniform(0, 0.25 * max(retry_after, 1)))
    base = min(5 * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


class Deliverer:
    def __init__(self, store: Store, senders: Mapping[str, Sender], worker: str = "main") -> None:
        self.store = store
        self.senders = dict(senders)
        self.worker = worker

    async def route(self, person_id: str) -> Delivery | None:
        async with self.store.session() as session:
            identities = {
                i.platform: i
                for i in (
                    await session.exec(select(ChatIdentity).where(ChatIdentity.person_id == person_id))
                ).all()
            }
        for platform in PLATFORM_ORDER:
            if platform in self.senders and platform in identities:
                identity = identities[platform]
                return Delivery(platform, identity.external_id, identity.reference)
        if "console" in self.senders:
            return Delivery("console", person_id)
        return None

    async def release_orphans(self) -> int:
        """Messages claimed by a sender on this host that no longer runs (killed mid-send) go back
        to pending at once instead of waiting out the lease. One may then be sent twice: the one
        that was in flight when the process died."""
        host = self.worker.rpartition(":")[0]
        released = 0
        async with self.store.session() as session:
            rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING))).all()
            for row in rows:
                row_host, _, pid = (row.claimed_by or "").rpartition(":")
                if row_host == host and pid.isdigit() and not _alive(int(pid)) and row.claimed_by != self.worker:
                    row.status, row.claimed_by, row.claimed_at = OutboxStatus.PENDING, None, None
                    session.add(row)
                    released += 1
        if released:
            logger.warning("outbox: %d messages claimed by a stopped process released", released)
        return released

    def route_channel(self, channel: str) -> Delivery | None:
        platform, _, address = channel.partition(":")
        if platform in self.senders:
            return Delivery(platform, address)
        # The terminal is the embedded default: with the channel's platform off, show it there.
        return Delivery("console", channel) if "console" in self.senders else None

    async def _held(self, person_id: str | None, now: datetime) -> bool:
        if person_id is None:
            return False  # channel posts have no one to pause
        async with self.store.session() as session:
            person = await session.get(Person, person_id)
            if person is None or person.forgotten:
                return True
            if not person.paused:
                return False
            if person.paused_until is None:
                return True
            cal = await calendar_for(session, person)
            return cal.local_date(now) < person.paused_until

    async def drain(self, now: datetime, person_id: str | None = None, limit: int = 1000) -> DrainResult:
        result = DrainResult()
        async with self.store.session() as session:
            rows = await due(session, now, LEASE, person_id=person_id, limit=limit)
        held: dict[str | None, bool] = {}
        stalled: set[str] = set()  # people whose earlier message waits for a retry
        for row in rows:
            payload = Outgoing.from_json(row.payload)
            if row.person_id not in held:
                held[row.person_id] = await self._held(row.person_id, now)
            if (held[row.person_id] and not payload.always) or row.person_id in stalled:
                result.held += 1
                continue
            async with self.store.session() as session:
                if not await claim(session, row.id, self.worker, now, LEASE):  # type: ignore[arg-type]
                    continue
            if not await self._send_one(row, payload, now, result) and row.person_id:
                stalled.add(row.person_id)
        return result

    async def _send_one(
        self, row: OutboxMessage, payload: Outgoing, now: datetime, result: DrainResult
    ) -> bool:
        """Send one message; False when it waits for a retry (the person's later ones wait too)."""
        if row.channel:
            delivery = self.route_channel(row.channel)
        else:
            delivery = await self.route(row.person_id) if row.person_id else None
        message_id: str | None = None
        error: DeliveryError | None = None
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
        async with self.store.session() as session:
            stored = await session.get(OutboxMessage, row.id)
            assert stored is not None
            if error is None or error.attempted:
                stored.attempts += 1
            if error is None:
                stored.status, stored.sent_at = OutboxStatus.SENT, now
                stored.platform, stored.platform_message_id = (
                    delivery.platform if delivery else None,
                    message_id,
                )
                result.sent += 1
            elif isinstance(error, Unsupported):
                # Nothing went wrong: the platform has no such thing (a home view in Teams).
                stored.status, stored.last_error = OutboxStatus.SKIPPED, error.reason
            elif error.permanent or stored.attempts >= MAX_ATTEMPTS:
                stored.status, stored.last_error = OutboxStatus.FAILED, error.reason
                result.failed += 1
                logger.warning("outbox %s to %s failed for good: %s", row.id, row.person_id, error.reason)
            else:
                stored.status, stored.last_error = OutboxStatus.PENDING, error.reason
                stored.not_before = now + backoff(stored.attempts, error.retry_after)
                result.retried += 1
                logger.info(
                    "outbox %s to %s: retry %d later: %s",
                    row.id,
                    row.person_id,
                    stored.attempts,
                    error.reason,
                )
            session.add(stored)
        # Only a message waiting for its retry holds back the person's later ones.
        return stored.status != OutboxStatus.PENDING
