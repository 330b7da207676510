"""Console sender: prints each message to a text stream."""

from __future__ import annotations

import itertools
from typing import TextIO

from adapters.console.translate import to_text
from bot.messages import Delivery, Outgoing


class ConsoleSender:
    platform = "console"

    def __init__(self, stream: TextIO, prefix: str = "") -> None:
        self.stream = stream
        self.prefix = prefix
        self._ids = itertools.count(1)

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        text = to_text(message)
        if self.prefix:
            text = "\n".join(self.prefix + line for line in text.splitlines())
        print(f"{text}\n", file=self.stream, flush=True)
        return f"console-{next(self._ids)}"
