"""APScheduler drives the clock in `reflectbot serve`: the sweeps on an interval, and a loop that,
as soon as something is stored, takes the replies waiting in the inbox and sends what they wrote
to the outbox, without waiting for the next sweep."""

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

# The drain loop also wakes this often on its own, for retries whose Retry-After has passed.
DRAIN_POLL_SECONDS = 1.0
# Replies taken between two drains: the first people's next questions go out while the rest of a
# burst is still being taken.
REPLIES_PER_DRAIN = 20


class Runner:
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
        self._drain_task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Something was written to the inbox or the outbox: take it and send it now."""
        self._wake.set()

    async def start(self) -> None:
        # The job only says "sweep now"; what is due comes from storage, so a missed run
        # (grace time passed, process down) is simply caught up by the next one.
        self.scheduler.add_job(
            self._sweep,
            IntervalTrigger(seconds=self.interval_seconds),
            id="sweeps",
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.start()
        self._drain_task = asyncio.create_task(self._drain_loop(), name="outbox-drain")

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        if self._drain_task is not None:
            self._drain_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain_task

    async def _sweep(self) -> None:
        try:
            await self.sweeps.run_all(self.clock(), pause=self.lulls.wait)
        except Exception:
            logger.exception("sweep failed; the next one retries")

    async def _drain_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=DRAIN_POLL_SECONDS)
            self._wake.clear()
            try:
                await self.take_and_send()
            except Exception:
                logger.exception("taking replies or draining the outbox failed; retrying")
                await asyncio.sleep(DRAIN_POLL_SECONDS)

    async def take_and_send(self) -> None:
        engine, deliverer = self.sweeps.engine, self.sweeps.deliverer
        while True:
            taken = await engine.take_waiting(self.clock(), pause=self.lulls.wait, limit=REPLIES_PER_DRAIN)
            await deliverer.drain(self.clock())
            if taken < REPLIES_PER_DRAIN:
                return
