"""`reflectbot chat --as PERSON`: talk to the bot as that person in the terminal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from adapters.console.sender import ConsoleSender
from adapters.console.translate import to_incoming
from bot.delivery import Deliverer
from bot.engine import Engine
from bot.messages import Delivery


async def chat(
    engine: Engine,
    person_id: str,
    stdin: TextIO,
    stdout: TextIO,
    clock: Callable[[], datetime],
    echo: bool = False,
) -> int:
    """Start or continue the person's conversation, then read replies until end of input.

    Returns how many replies were read. With `echo`, typed lines are printed too, so a piped
    session reads as a transcript.
    """
    deliverer = Deliverer(engine.store, {"console": ConsoleSender(stdout)})
    await engine.start_next(person_id, clock())
    await deliverer.drain(clock(), person_id=person_id)
    replies = 0
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if line == "":
            return replies
        if not line.strip():
            continue
        if echo:
            print(f"> {line.strip()}\n", file=stdout, flush=True)
        replies += 1
        for message in await engine.handle(to_incoming(person_id, line), clock()):
            await deliverer.senders["console"].send(Delivery("console", person_id), message)
        await deliverer.drain(clock(), person_id=person_id)
