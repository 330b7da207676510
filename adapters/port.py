"""What the composition root needs from a platform adapter, beyond `bot.ports.Sender`."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.ports import Sender


class PlatformAdapter(Sender, Protocol):
    """An adapter mounted on the one aiohttp server of `reflectbot serve`.

    Every platform's reply takes one way in: the adapter verifies the request, translates it
    into a `bot.messages.Incoming`, hands it to `Engine.accept` (one statement in the inbox) and
    only then answers the platform; `on_stored()` wakes the server's work loop, which has the
    engine take the reply and sends what follows through the outbox (`Sender.send`, in the
    platform's format, for each operation in `supports`). Only the answer to someone the
    programme does not know, which `accept` returns, is sent from the request: nothing of theirs
    is stored. Reads and writes of storage go through `storage/`'s functions, never the ORM.
    """

    def routes(self) -> list[web.RouteDef]: ...

    async def start(self) -> None:
        """Called once the server runs (e.g. to open a Socket Mode connection)."""

    async def stop(self) -> None: ...
