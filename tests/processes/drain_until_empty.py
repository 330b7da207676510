"""Drain the outbox in this process, as `serve`'s work loop does, until nothing is left to send by
anyone (no message pending or being sent), once every worker has reached the barrier: a replica
that only sends.

Usage: python -m tests.processes.drain_until_empty AT BARRIER_DIR NAME WORKERS
The settings come from the environment, as `serve`'s do. The bot's clock starts at AT when the
barrier opens and runs at the real clock's pace, so retries come due as they would. Prints on
stdout one JSON line: messages sent, retried, the CPU seconds spent after the barrier, the
wall times (epoch seconds) it started and ended, and the process's peak resident memory (MB).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, func, select

from reflectbot.server import build_server
from reflectbot.settings import Settings
from storage.models import OutboxMessage

IDLE_SECONDS = 0.1


async def main(at: datetime, barrier: Path, name: str, workers: int) -> None:
    began = time.monotonic()

    def clock() -> datetime:
        return at + timedelta(seconds=time.monotonic() - began)

    server = await build_server(Settings(_env_file=None), clock=clock)  # type: ignore[call-arg]
    (barrier / name).touch()
    while len(list(barrier.iterdir())) < workers:
        await asyncio.sleep(0.001)
    began, cpu, started = time.monotonic(), time.process_time(), time.time()
    sent = retried = 0
    try:
        while True:
            result = await server.deliverer.drain(clock())
            sent, retried = sent + result.sent, retried + result.retried
            async with server.store.reading() as session:
                left = (
                    await session.exec(
                        select(func.count()).where(col(OutboxMessage.status).in_(("pending", "sending")))
                    )
                ).one()
            if not left:
                break
            await asyncio.sleep(IDLE_SECONDS)
    finally:
        await server.close()
    spent = time.process_time() - cpu
    peak = _peak_mb()
    print(
        json.dumps(
            {"sent": sent, "retried": retried, "cpu": spent, "start": started, "end": time.time(), "peak_mb": peak}
        )
    )


def _peak_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM, not getrusage's ru_maxrss, which also
    counts the parent's memory this process was forked from (the bench holding every call)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(kib) / 1024 if kib else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    at, barrier, name, workers = sys.argv[1:]
    asyncio.run(main(datetime.fromisoformat(at), Path(barrier), name, int(workers)))
