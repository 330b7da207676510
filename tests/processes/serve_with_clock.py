"""Run `reflectbot serve` in this process with its clock read from a file, until a stop file
appears: a replica that lives through a test's days in seconds.

Usage: python -m tests.processes.serve_with_clock CLOCK_FILE PORT_FILE STOP_FILE
The settings come from the environment, as `serve`'s do; the port it listens on (chosen by the
system) is written to PORT_FILE once it is serving.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from reflectbot.connections import listen
from reflectbot.server import build_server
from reflectbot.settings import Settings


async def main(clock_file: Path, port_file: Path, stop_file: Path) -> None:
    def clock() -> datetime:
        return datetime.fromisoformat(clock_file.read_text().strip())

    settings = Settings()
    server = await build_server(settings, clock=clock)
    runner = await listen(server.app, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    await server.start()
    port_file.write_text(str(port))
    try:
        while not stop_file.exists():
            await asyncio.sleep(0.05)
    finally:
        await server.stop()
        await runner.cleanup()
        await server.close()


if __name__ == "__main__":
    clock_file, port_file, stop_file = (Path(a) for a in sys.argv[1:4])
    asyncio.run(main(clock_file, port_file, stop_file))
