"""The load generator the benches share: `events` requests, `in_flight` at a time, timed to the
HTTP response."""

from __future__ import annotations

import argparse
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


async def counts(store: Any) -> dict[str, int]:
    """After a run: replies kept in the inbox, those still waiting to be taken (or set aside as
    failed), and messages still waiting in the outbox."""
    from sqlmodel import func, select

    from storage.models import InboundEvent, OutboxMessage

    async with store.reading() as session:
        inbox = dict(
            (await session.exec(select(InboundEvent.status, func.count()).group_by(InboundEvent.status))).all()  # type: ignore[arg-type]
        )
        pending = (
            await session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        ).one()
    return {
        "kept": sum(inbox.values()),
        "waiting": inbox.get("pending", 0),
        "failed": inbox.get("failed", 0),
        "outbox": pending,
    }


async def settle(store: Any, timeout: float = 600) -> float:
    """Seconds until the running server has taken every waiting reply and sent what they wrote."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        now = await counts(store)
        if now["waiting"] == 0 and now["outbox"] == 0:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - began


def rounds(run: Callable[[], Awaitable[float]], times: int) -> None:
    """Run a bench `times` times (a fresh database each) and print the median events/s: on a
    shared machine single runs vary by a quarter either way."""
    results = [asyncio.run(run()) for _ in range(times)]
    if times > 1:
        print(f"median of {times} rounds: {statistics.median(results):.0f} events/s")


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every bench takes: how many requests, how many at a time, for how many
    people, and how many rounds."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="run this many times; prints the median")
    return parser
