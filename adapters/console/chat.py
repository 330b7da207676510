"""`reflectbot chat --as PERSON`: talk to the bot as that person in the terminal.

The terminal takes a line the way every platform takes a reply: `Engine.accept` keeps it in the
inbox, then the engine takes what waits (`take_waiting`) and the outbox prints what follows. There
is no server loop here, so the session does that work itself after each line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from adapters.console.sender import ConsoleSender
from adapters.console.translate import to_incoming
from bot.delivery import Deliverer
from bot.engine import Engine
from bot.messages import Delivery, Incoming
from bot.ports import Sender


class ConsoleChat:
    """One person's terminal session: lines in, messages out through `sender` (a ConsoleSender)."""

    def __init__(self, engine: Engine, person_id: str, sender: Sender, clock: Callable[[], datetime]) -> None:
        self.engine, self.person_id, self.sender, self.clock = engine, person_id, sender, clock
        self.deliverer = Deliverer(engine.store, {"console": sender})

    async def start(self) -> None:
        """Continue the person's open conversation, or start their next one now."""
        await self.engine.start_next(self.person_id, self.clock())
        await self.deliverer.drain(self.clock(), person_id=self.person_id)

    async def receive(self, incoming: Incoming) -> None:
        """Keep what was typed in the inbox; someone the programme does not know is answered at
        once (nothing of theirs is kept)."""
        for reply in await self.engine.accept(incoming, self.clock()):
            await self.sender.send(Delivery("console", self.person_id), reply)

    async def work(self) -> None:
        """What `reflectbot serve`'s loop does: take what waits, then print what it wrote."""
        await self.engine.take_waiting(self.clock())
        await self.deliverer.drain(self.clock(), person_id=self.person_id)

    async def say(self, line: str) -> None:
        await self.receive(to_incoming(self.person_id, line))
        await self.work()


async def chat(
    engine: Engine,
    person_id: str,
    stdin: TextIO,
    stdout: TextIO,
    clock: Callable[[], datetime],
    echo: bool = False,
    start: bool = True,
) -> int:
    """With `start`, continue the person's conversation first (its question asked again); then
    read replies until end of input. Without it nothing is opened until the person writes
    (`now`, `all-now`): trying the terminal must not start a real conversation early.

    Returns how many replies were read. With `echo`, typed lines are printed too, so a piped
    session reads as a transcript.
    """
    session = ConsoleChat(engine, person_id, ConsoleSender(stdout, store=engine.store), clock)
    if start:
        await session.start()
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
        await session.say(line)
