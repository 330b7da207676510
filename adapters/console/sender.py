"""Console sender: prints each message to a text stream."""

from __future__ import annotations

import itertools
from typing import TextIO

from adapters.console.translate import to_text
from bot.messages import Delivery, Op, Outgoing


class ConsoleSender:
    platform = "console"
    supports = frozenset({Op.MESSAGE})

    def __init__(self, stream: TextIO, show_recipient: bool = False) -> None:
        self.stream = stream
        # One terminal may show everyone's messages (`serve` with no platform): say whose it is.
        self.show_recipient = show_recipient
        self._ids = itertools.count(1)

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        text = to_text(message)
        if self.show_recipient:
            text = f"[to {delivery.address}]\n{text}"
        print(f"{text}\n", file=self.stream, flush=True)
        return f"console-{next(self._ids)}"
