"""reflectbot at scale: a generated programme of N participants, imported, swept when nothing is
due and when everyone's midpoint falls due at once, and drained to a sender that only records.

    .venv/bin/python bench/scale.py --participants 10000 [--database-url URL]

Prints one line per figure. The import runs as a real `reflectbot import` process so its peak
memory is its own; the sweeps run in this process, timed by CPU (process_time) and wall clock.
Figures are for our reading (and the issue notes), not enforced by tests: a shared machine's
timings vary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.delivery import Deliverer  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.messages import Delivery, Op, Outgoing  # noqa: E402
from scheduler.sweeps import Snapshot, Sweeps  # noqa: E402
from storage.db import Store  # noqa: E402

START, END = date(2027, 1, 4), date(2027, 6, 25)
# Everyone's midpoint, 10:00 in Kathmandu (as Rina's in the sample programme).
MIDPOINT = datetime(2027, 3, 31, 4, 15, tzinfo=UTC)
QUIET = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # a Wednesday afternoon: nothing falls due


def programme(participants: int, directory: Path) -> Path:
    """The sample programme with `participants` people like Rina (hosted by Sahaj, Kathmandu)."""
    data = yaml.safe_load((ROOT / "examples" / "programme.yaml").read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    data["participants"] = [
        dict(rina, id=f"p{n:05d}", name=f"Participant {n:05d}", language="en", slack=None, start=START, end=END)
        for n in range(participants)
    ]
    for person in data["participants"]:
        person.pop("slack", None)
    for panel in data.get("panels", []):
        panel["presenters"] = []
    # No colleagues, so no pairing: the pairing sweep's own cost is another figure (see the
    # closing notes of issue 15), and invitations would make the quiet instant busy.
    data.pop("colleagues", None)
    data.pop("pairing", None)
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_cli(env: dict[str, str], *args: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one `reflectbot ARGS` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reflectbot.cli", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"reflectbot {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


class Recorder:
    """A sender that only counts: what our side costs, without a platform's."""

    platform = "console"
    supports = frozenset({Op.MESSAGE})

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.sent += 1
        return f"m{self.sent}"


async def sweeps(url: str, participants: int) -> None:
    store = Store(url)
    recorder = Recorder()
    deliverer = Deliverer(store, {"console": recorder})
    sweeper = Sweeps(Engine(store), deliverer)
    try:
        for label, at in (("quiet sweep", QUIET), ("quiet sweep again", QUIET + timedelta(minutes=5))):
            cpu, wall = time.process_time(), time.perf_counter()
            await sweeper.run_all(at)
            print(f"{label}: {time.process_time() - cpu:.3f} s CPU, {time.perf_counter() - wall:.3f} s wall")

        # Everyone's midpoint at once: started and queued (the sweep without its drain), then sent.
        cpu, wall = time.process_time(), time.perf_counter()
        async with store.reading() as session:
            snap = await Snapshot.load(session, MIDPOINT)
        started = await sweeper.start_due(MIDPOINT, snap)
        print(
            f"due sweep ({started} conversations started and queued): "
            f"{time.process_time() - cpu:.1f} s CPU, {time.perf_counter() - wall:.1f} s wall"
        )
        cpu, wall = time.process_time(), time.perf_counter()
        drained = await deliverer.drain(MIDPOINT)
        spent = time.process_time() - cpu
        print(
            f"drain: {drained.sent} messages sent in {time.perf_counter() - wall:.1f} s wall, "
            f"{1000 * spent / max(drained.sent, 1):.2f} ms CPU per message"
        )
        print(f"this process's peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = args.database_url or f"sqlite:///{directory / 'scale.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_"))}
        env |= {"DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        path = programme(args.participants, directory)
        print(f"{args.participants} participants, {path.stat().st_size / 1e6:.1f} MB of YAML, on {url.split(':')[0]}")
        run_cli(env, "init")
        wall, peak = run_cli(env, "import", str(path))
        print(f"import: {wall:.1f} s, peak RSS {peak:.0f} MB")
        wall, peak = run_cli(env, "import", str(path))
        print(f"import again (nothing changes): {wall:.1f} s, peak RSS {peak:.0f} MB")
        asyncio.run(sweeps(url, args.participants))


if __name__ == "__main__":
    main()
