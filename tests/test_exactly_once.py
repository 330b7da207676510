"""Exactly once: a tick repeated, two processes ticking together, and a server killed mid-drain."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlmodel import func, select

from bot.delivery import CONCURRENCY
from bot.messages import Outgoing
from reflectbot.server import build_server
from reflectbot.settings import Settings
from storage.db import Store
from storage.models import OutboxMessage
from storage.outbox import enqueue
from tests.conftest import ROOT

MIDPOINT = "2027-03-31T04:15:00+00:00"  # Rina's midpoint (10:00 in Kathmandu); Priya's catches up


def _env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "DATABASE_"))
    }
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


async def test_ticking_the_same_instant_twice_sends_nothing_twice(
    programme: Store, database_url: str
) -> None:
    server = await build_server(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    first = await server.tick(datetime.fromisoformat(MIDPOINT))
    second = await server.tick(datetime.fromisoformat(MIDPOINT))
    await server.close()
    assert first.started == 2 and first.drained.sent == 4  # Rina and Priya: an intro and a question each
    assert second.started == 0 and second.drained.sent == 0


async def test_two_processes_ticking_together_send_no_prompt_twice(
    programme: Store, database_url: str, tmp_path: Path
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.processes.tick_after_barrier",
                database_url,
                MIDPOINT,
                str(barrier),
                name,
                "2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(database_url),
            cwd=ROOT,
        )
        for name in ("a", "b")
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    spans = [tuple(map(float, err.strip().splitlines()[-1].split())) for _, err in outputs]
    assert max(s for s, _ in spans) < min(e for _, e in spans), f"the two ticks did not overlap: {spans}"
    async with programme.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert len(rows) == 4 and all(r.status == "sent" for r in rows)
    printed = "".join(out for out, _ in outputs)
    for row in rows:
        text = Outgoing.from_json(row.payload).text
        assert printed.count(text.splitlines()[0]) == 1, text[:60]


def _read_lines(stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        sink.append(line)


async def test_killing_serve_mid_drain_loses_nothing_and_repeats_at_most_what_was_in_flight(
    programme: Store, database_url: str
) -> None:
    total = 500
    now = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    async with programme.session() as session:
        for i in range(total):
            person = ("rina", "bishal", "priya", "sokha", "tanvir")[i % 5]
            payload = Outgoing(person_id=person, text=f"load-prompt {i:03d}").to_json()
            await enqueue(session, key=f"load:{i}", person_id=person, payload=payload, now=now)
    env = _env(database_url) | {"PORT": "0", "SWEEP_INTERVAL_SECONDS": "3600"}
    command = [sys.executable, "-m", "reflectbot.cli", "serve"]

    first: list[str] = []
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    reader = threading.Thread(target=_read_lines, args=(server.stdout, first), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while sum("load-prompt" in line for line in first) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    reader.join(timeout=10)
    sent_before = sum("load-prompt" in line for line in first)
    assert 50 <= sent_before < total, "the kill must land in the middle of the drain"

    second: list[str] = []
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    reader = threading.Thread(target=_read_lines, args=(server.stdout, second), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        async with programme.session() as session:
            pending = (
                await session.exec(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
                )
            ).one()
        if pending == 0:
            break
        time.sleep(0.2)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    reader.join(timeout=10)

    counts = Counter(m.group(1) for line in first + second if (m := re.search(r"load-prompt (\d{3})", line)))
    assert set(counts) == {f"{i:03d}" for i in range(total)}, "every prompt is delivered"
    duplicates = sum(counts.values()) - total
    # Only what was in flight between "sent" and "marked sent" may repeat: one message for each
    # of the people the outbox serves side by side.
    in_flight_bound = min(CONCURRENCY, 5)
    assert duplicates <= in_flight_bound, counts.most_common(3)


async def test_the_same_work_writes_the_same_outbox_keys_so_a_repeat_is_written_once(tmp_path: Path) -> None:
    """Every message a turn writes has a key made from what caused it (a reply's event id, a sweep
    step) and its place in the turn, never a random one: the same replies and ticks on two fresh
    databases write the same keys, so work repeated on one database writes each message once."""
    from bot.engine import Engine
    from bot.messages import Incoming
    from storage.importer import import_programme
    from storage.migrate import migrate
    from tests.conftest import PROGRAMME

    async def keys(url: str) -> list[str]:
        store = Store(url)
        await migrate(store)
        await import_programme(store, PROGRAMME)
        server = await build_server(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        at = datetime.fromisoformat(MIDPOINT)
        await server.tick(at)
        engine = Engine(store)
        # Repeated asks, a typo's question, a correction, an export and the day's end: each a
        # message whose key once had a random part.
        for n, text in enumerate(["now", "stauts", "Mothers meet weekly.", "now", "export", "correct 1"]):
            await engine.handle(Incoming("console", "rina", text=text, event_id=f"e{n}"), at)
        await server.tick(at)
        async with store.reading() as session:
            found = sorted((await session.exec(select(OutboxMessage.key))).all())
        await server.close()
        await store.close()
        return found

    first = await keys(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    second = await keys(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    assert len(first) > 8
    assert first == second
    assert len(set(first)) == len(first)
