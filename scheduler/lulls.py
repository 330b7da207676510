"""Lulls between the platforms' requests, for the work that can wait for one.

Slack wants its answer within 3 seconds (Teams within 15), and a reply is answered as soon as it
is in the inbox. Taking it (storing the answer, writing the next prompt) can wait a moment, so
the server's loop does that between requests rather than beside them. Under a steady flood it
still takes one at least every `max_wait` seconds, so nothing waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator


class Lulls:
    def __init__(self, max_wait: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.clock = clock
        self.in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._last = clock()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Count a platform's request while it is being answered."""
        self.in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._quiet.set()

    async def wait(self) -> None:
        """Return when no request is in flight, or `max_wait` after the last return."""
        remaining = self._last + self.max_wait - self.clock()
        if not self._quiet.is_set() and remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), timeout=remaining)
        self._last = self.clock()
