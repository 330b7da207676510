"""Pacing sends per conversation under Teams' limits (7 a second, 8 per 2 seconds per bot per
conversation), so a burst (a notice and the next question, a digest in parts) is spread out
instead of being answered with 429.

After a 429 the conversation is held until Retry-After has passed: the messages behind the
refused one go back to the outbox too instead of overtaking it.

This is a rate limiter, not conversation state: it only remembers when this process last sent,
and a 429 that still happens (several processes, the per-tenant limit) goes back to the outbox
with its Retry-After.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

LIMITS = ((1.0, 7), (2.0, 8))  # (window in seconds, sends allowed in it)


class Pacer:
    def __init__(
        self,
        limits: tuple[tuple[float, int], ...] = LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._longest = max(window for window, _ in limits)
        # Holds are kept on the bot's clock (the outbox's time), windows on the monotonic one.
        self._holds: dict[str, datetime] = {}

    def hold(self, key: str, until: datetime) -> None:
        """Teams said 429 for this conversation: nothing more goes to it before `until`."""
        self._holds[key] = max(until, self._holds.get(key, until))

    def held_for(self, key: str, now: datetime) -> float:
        until = self._holds.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._holds[key]
            return 0.0
        return (until - now).total_seconds()

    def delay(self, conversation_id: str) -> float:
        """Seconds to wait before the next send in this conversation may go."""
        sent = self._sent.get(conversation_id)
        if not sent:
            return 0.0
        now = self.clock()
        while sent and now - sent[0] >= self._longest:
            sent.popleft()
        wait = 0.0
        for window, allowed in self.limits:
            recent = [t for t in sent if now - t < window]
            if len(recent) >= allowed:
                wait = max(wait, recent[-allowed] + window - now)
        return wait

    async def wait(self, conversation_id: str) -> None:
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            # With the lock held nothing else sends here, so one wait opens the window.
            if (delay := self.delay(conversation_id)) > 0:
                await asyncio.sleep(delay)
            self.record(conversation_id)

    def record(self, conversation_id: str) -> None:
        """A send to this conversation goes now."""
        self._sent.setdefault(conversation_id, deque()).append(self.clock())
        self._forget_idle()

    def _forget_idle(self) -> None:
        if len(self._sent) < 1000:
            return
        now = self.clock()
        for key in [k for k, v in self._sent.items() if not v or now - v[-1] >= self._longest]:
            self._sent.pop(key, None)
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                self._locks.pop(key, None)
