"""Console sender: prints each message to a text stream."""

from __future__ import annotations

import itertools
import json
from typing import TextIO

from adapters.console.translate import to_text
from bot.messages import Delivery, Op, Outgoing
from bot.privacy import UnknownPerson, export_person
from storage.db import Store


class ConsoleSender:
    """Prints messages; with a store it also prints a person's export (read when it is printed).

    A terminal prints each message once and never changes it, and what the person typed is on
    the screen already: there is no recorded answer to show in place (no SHOW_ANSWER), and no home
    view (no PUBLISH_HOME)."""

    platform = "console"

    def __init__(self, stream: TextIO, show_recipient: bool = False, store: Store | None = None) -> None:
        self.stream = stream
        # One terminal may show everyone's messages (`serve` with no platform): say whose it is.
        self.show_recipient = show_recipient
        self.store = store
        # The learning record is a file: the terminal says how to print it (`reflectbot record`).
        self.supports = frozenset(
            {Op.MESSAGE, Op.DELIVER_EXPORT, Op.DELIVER_RECORD} if store else {Op.MESSAGE, Op.DELIVER_RECORD}
        )
        self._ids = itertools.count(1)

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        if message.op is Op.DELIVER_EXPORT:
            assert self.store is not None  # not in `supports` without one
            try:
                data = await export_person(self.store, message.person_id)
            except UnknownPerson:
                return ""
            text = f"{message.text}\n{json.dumps(data, ensure_ascii=False, indent=2)}"
        elif message.op is Op.DELIVER_RECORD:
            text = "\n".join(t for t in (message.text, message.hint) if t)
        else:
            text = to_text(message)
        if self.show_recipient:
            text = f"[to {delivery.address}]\n{text}"
        print(f"{text}\n", file=self.stream, flush=True)
        return f"console-{next(self._ids)}"
