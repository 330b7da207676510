"""The load generator the benches share: `events` requests, `in_flight` at a time, timed to the
HTTP response; and the `Result` each bench's `main` returns, so bench/inbound.py can set them side
by side."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Result:
    """What one run measured."""

    per_second: float  # requests answered, per second from the first request to the last response
    p50: float  # time to the HTTP response, ms
    p99: float
    failures: int = 0  # answered with another status than the platform counts as accepted
    # Replies taken and their next prompt sent, per second from the first request until the last
    # of them (None where the bench has no such work: the floors only store).
    end_to_end: float | None = None
    settled: float | None = None  # of that, seconds after the last response
    unsettled: int = 0  # replies still waiting and messages still in the outbox when `settle` gave up


def result(
    events: int,
    seconds: float,
    latencies: list[float],
    failures: int,
    settled: float | None = None,
    unsettled: int = 0,
) -> Result:
    """The figures of `fire`'s (seconds, latencies, failures), and of `settle`'s when measured."""
    p50, p99 = percentiles(latencies)
    end_to_end = None if settled is None else events / (seconds + settled)
    return Result(events / seconds, p50, p99, failures, end_to_end, settled, unsettled)


def median(results: list[Result]) -> Result:
    """Each figure the median of its rounds (failures and what was left unsettled: the worst)."""

    def middle(values: list[float | None]) -> float | None:
        return None if None in values else statistics.median(values)  # type: ignore[type-var]

    return Result(
        statistics.median(r.per_second for r in results),
        statistics.median(r.p50 for r in results),
        statistics.median(r.p99 for r in results),
        max(r.failures for r in results),
        middle([r.end_to_end for r in results]),
        middle([r.settled for r in results]),
        max(r.unsettled for r in results),
    )


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
        by_status = select(InboundEvent.status, func.count()).group_by(InboundEvent.status)  # type: ignore[arg-type]
        inbox = dict((await session.exec(by_status)).all())
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


async def settle(store: Any, timeout: float = 600) -> tuple[float, int]:
    """Seconds until the running server has taken every waiting reply and sent what they wrote,
    and how much of that was still left if it had not within `timeout` (else 0)."""
    began = time.perf_counter()
    while True:
        now = await counts(store)
        left = now["waiting"] + now["outbox"]
        if left == 0 or time.perf_counter() - began >= timeout:
            return time.perf_counter() - began, left
        await asyncio.sleep(0.1)


def settled(left: int) -> str:
    """How `settle` ended, for the line that says when."""
    if left:
        return f"gave up waiting with {left} replies or prompts still waiting"
    return "every reply taken and its next prompt sent"


def rounds(run: Callable[[], Coroutine[Any, Any, Result]], times: int) -> Result:
    """Run a bench `times` times (a fresh database each), print the median events/s and return
    the median of each figure: on a shared machine single runs vary by a quarter either way."""
    results = [asyncio.run(run()) for _ in range(times)]
    middle = median(results)
    if times > 1:
        print(f"median of {times} rounds: {middle.per_second:.0f} events/s")
    return middle


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every bench takes: how many requests, how many at a time, for how many
    people, and how many rounds."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="run this many times; prints the median")
    return parser
