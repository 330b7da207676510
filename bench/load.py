"""The load generator the benches share: `events` requests, `in_flight` at a time, timed to the
HTTP response."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

# Sends request number n and says whether the platform would count it as accepted.
Post = Callable[[aiohttp.ClientSession, int], Awaitable[bool]]


async def fire(events: int, in_flight: int, post: Post) -> tuple[float, list[float], int]:
    """(seconds, latencies, failures) of `events` requests with `in_flight` at a time."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(events):
        queue.put_nowait(n)
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                n = queue.get_nowait()
                start = time.perf_counter()
                if not await post(session, n):
                    failures += 1
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - began, latencies, failures


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(latencies)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def stored_and_pending(store: Any) -> tuple[int, int]:
    """Replies stored (inbound events) and prompts still waiting in the outbox after a run."""
    from sqlmodel import func, select

    from storage.models import InboundEvent, OutboxMessage

    async with store.session() as session:
        stored = (await session.exec(select(func.count()).select_from(InboundEvent))).one()
        pending = (
            await session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        ).one()
    return stored, pending
