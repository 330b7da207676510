"""Run `reflectbot tick` logic in this process once every worker has reached the barrier.

Usage: python -m tests.processes.tick_after_barrier DATABASE_URL AT BARRIER_DIR NAME WORKERS
Prints the messages sent (console adapter) on stdout and "start end" wall times on stderr.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path

from reflectbot.server import build_server
from reflectbot.settings import Settings


async def main(url: str, at: str, barrier: Path, name: str, workers: int) -> None:
    server = await build_server(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    (barrier / name).touch()
    while len(list(barrier.iterdir())) < workers:
        await asyncio.sleep(0.001)
    started = time.time()
    await server.tick(datetime.fromisoformat(at))
    ended = time.time()
    await server.close()
    print(f"{started} {ended}", file=sys.stderr)


if __name__ == "__main__":
    url, at, barrier, name, workers = sys.argv[1:]
    asyncio.run(main(url, at, Path(barrier), name, int(workers)))
