"""Replicas that only send: `tests.processes.drain_until_empty` processes on one database, let
go at one moment (a file barrier) and run until the outbox is empty; what each reports."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.messages import Outgoing
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.outbox import enqueue

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Drained:
    sent: int
    retried: int
    cpu: float  # seconds, after the barrier
    start: float  # epoch seconds
    end: float
    peak_mb: float  # the replica's peak resident memory


async def drain_together(env: dict[str, str], directory: Path, at: datetime, workers: int) -> list[Drained]:
    """`workers` replicas, their clocks starting at `at`; each one's report once all have ended."""
    barrier = Path(tempfile.mkdtemp(prefix="drain-barrier-", dir=directory))
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.processes.drain_until_empty",
            at.isoformat(),
            str(barrier),
            f"d{n}",
            str(workers),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(workers)
    ]
    outputs = [await p.communicate() for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-3000:]
    return [Drained(**json.loads(out.decode().strip().splitlines()[-1])) for out, _ in outputs]


@asynccontextmanager
async def programme_store(database_url: str, programme: Path) -> AsyncIterator[Store]:
    """The database, migrated, with this programme imported."""
    store = Store(database_url)
    await migrate(store)
    await import_programme(store, programme)
    try:
        yield store
    finally:
        await store.close()


async def queue_burst(store: Store, people: list[str], messages: int, now: datetime) -> None:
    """`messages` for each of these people, all due now ("ID message N"; keys "pace:ID:N")."""
    async with store.session() as session:
        for n in range(messages):
            for person in people:
                out = Outgoing(person_id=person, text=f"{person} message {n}", always=True)
                await enqueue(
                    session, key=f"pace:{person}:{n}", person_id=person, payload=out.to_json(), now=now
                )
