"""What the composition root needs from a platform adapter, beyond `bot.ports.Sender`."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.ports import Sender


class PlatformAdapter(Sender, Protocol):
    """An adapter mounted on the one aiohttp server of `reflectbot serve`.

    It turns platform requests into `bot.messages.Incoming`, hands them to `Engine.handle`
    (which stores before the adapter acknowledges the platform), calls `on_stored()` so the
    server drains the outbox at once, and sends `bot.messages.Outgoing` as the platform's format.
    """

    def routes(self) -> list[web.RouteDef]: ...

    async def start(self) -> None:
        """Called once the server runs (e.g. to open a Socket Mode connection)."""

    async def stop(self) -> None: ...
