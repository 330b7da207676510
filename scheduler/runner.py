"""APScheduler drives the clock in `reflectbot serve`: the sweeps on an interval and, as soon as
something is stored, the replies waiting in the inbox are taken and what they wrote to the outbox
is sent, without waiting for the next sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.lulls import Lulls
from scheduler.sweeps import Sweeps

logger = logging.getLogger(__name__)

# The work loop also wakes this often on its own, for retries whose Retry-After has passed.
DRAIN_POLL_SECONDS = 1.0
# Replies taken between two drains: the first people's next questions go out while the rest of a
# burst is still being taken.
REPLIES_PER_DRAIN = 20
# A pause between those rounds while a backlog is worked through. SQLite's busy handler is not a
# queue: another process waiting for the write lock (a `reflectbot tick` from cron, a chat)
# polls for it and would keep missing the moment between two of our transactions.
BREATHER_SECONDS = 0.02


class Runner:
    """One task does the work, so a sweep and the taking of replies never run side by side in a
    process and `stop()` has one thing to cancel and wait for; APScheduler only says when a sweep
    is due."""

    def __init__(
        self,
        sweeps: Sweeps,
        interval_seconds: int,
        clock: Callable[[], datetime],
        lulls: Lulls | None = None,
    ) -> None:
        self.sweeps = sweeps
        self.lulls = lulls or Lulls()
        self.interval_seconds = interval_seconds
        self.clock = clock
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._wake = asyncio.Event()
        self._sweep_due = False
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Something was written to the inbox or the outbox: take it and send it now."""
        self._wake.set()

    async def start(self) -> None:
        # The job only says "sweep now"; what is due comes from storage, so a missed run
        # (grace time passed, process down) is simply caught up by the next one.
        self.scheduler.add_job(
            self._ask_for_sweep,
            IntervalTrigger(seconds=self.interval_seconds),
            id="sweeps",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.start()
        self._task = asyncio.create_task(self._work(), name="reflectbot-work")

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _ask_for_sweep(self) -> None:
        self._sweep_due = True
        self._wake.set()

    async def _work(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=DRAIN_POLL_SECONDS)
            self._wake.clear()
            try:
                if self._sweep_due:
                    self._sweep_due = False
                    await self.sweeps.run_all(self.clock(), pause=self.lulls.wait)
                else:
                    await self.take_and_send()
            except Exception:
                logger.exception("a sweep, taking replies or draining the outbox failed; retrying")
                await asyncio.sleep(DRAIN_POLL_SECONDS)

    async def take_and_send(self) -> None:
        engine, deliverer = self.sweeps.engine, self.sweeps.deliverer
        while True:
            taken = await engine.take_waiting(self.clock(), pause=self.lulls.wait, limit=REPLIES_PER_DRAIN)
            await deliverer.drain(self.clock())
            if taken < REPLIES_PER_DRAIN:
                return
            await asyncio.sleep(BREATHER_SECONDS)
