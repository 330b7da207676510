"""The composition root: settings → store, engine, adapters, outbox, sweeps, and one aiohttp server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text
from sqlmodel import col, func, select

from adapters.console.sender import ConsoleSender
from adapters.port import PlatformAdapter
from adapters.web import WebView
from bot.delivery import Deliverer
from bot.engine import Engine
from bot.ports import Sender
from bot.web_links import WebLinks
from reflectbot.connections import BODY_SECONDS, listen, read_body
from reflectbot.settings import Settings
from reflectbot.wiring import build_adapters
from scheduler.lulls import Lulls
from scheduler.runner import Runner
from scheduler.sweeps import SweepReport, Sweeps
from storage.db import Store
from storage.migrate import DatabaseNotReady, check_ready, migrate
from storage.models import InboundEvent, OutboxMessage

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Server:
    settings: Settings
    store: Store
    engine: Engine
    deliverer: Deliverer
    sweeps: Sweeps
    runner: Runner
    adapters: dict[str, PlatformAdapter]
    app: web.Application

    async def tick(self, at: datetime) -> SweepReport:
        """Every sweep once as of `at`, then drain the outbox: `reflectbot tick`."""
        return await self.sweeps.run_all(at)

    async def start(self) -> None:
        await self.deliverer.release_orphans()
        for adapter in self.adapters.values():
            await adapter.start()
        await self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()
        for adapter in self.adapters.values():
            await adapter.stop()

    async def close(self) -> None:
        # Also after a `tick`, which never started them: adapters let go of their HTTP sessions.
        for adapter in self.adapters.values():
            await adapter.stop()
        await self.store.close()


async def build_server(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    console: TextIO | None = None,
    body_seconds: float = BODY_SECONDS,
) -> Server:
    store = Store(settings.database_url)
    await migrate(store)
    engine = Engine(store)
    runner: Runner | None = None

    def on_stored() -> None:
        if runner is not None:
            runner.notify()

    adapters = build_adapters(settings, engine, clock, on_stored)
    # Prompts go to Slack when configured, else Teams when configured, else the terminal.
    senders: dict[str, Sender] = {
        "console": ConsoleSender(console or sys.stdout, show_recipient=True, store=store)
    }
    if "slack" in adapters:
        senders["slack"] = adapters["slack"]
    if "teams" in adapters and settings.teams_delivery:
        senders["teams"] = adapters["teams"]
    deliverer = Deliverer(store, senders, worker=f"{socket.gethostname()}:{os.getpid()}")
    # The coordinators' web view: signed links, checked against the same store.
    links = WebLinks(store, settings.web_base_url, settings.web_secret)
    sweeps = Sweeps(engine, deliverer, links)
    lulls = Lulls()
    runner = Runner(sweeps, settings.sweep_interval_seconds, clock, lulls)

    @web.middleware
    async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/healthz":
            return await handler(request)
        with lulls.request():
            return await handler(request)

    app = web.Application(middlewares=[counted, read_body(body_seconds)])
    server = Server(settings, store, engine, deliverer, sweeps, runner, adapters, app)
    app.router.add_get("/healthz", _healthz(server))
    for adapter in adapters.values():
        app.add_routes(adapter.routes())
    app.add_routes(WebView(store, links, engine.translator, clock).routes())
    return server


def _healthz(server: Server) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with server.store.reading() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
                counts = dict(
                    (
                        await session.exec(
                            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)  # type: ignore[arg-type]
                        )
                    ).all()
                )
                inbox = dict(
                    (
                        await session.exec(
                            select(InboundEvent.status, func.count())  # type: ignore[arg-type]
                            .where(col(InboundEvent.status) != "done")
                            .group_by(InboundEvent.status)
                        )
                    ).all()
                )
        except Exception as exc:
            logger.error("healthz: database unreachable: %s", type(exc).__name__)
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        try:
            await check_ready(server.store)
        except DatabaseNotReady:
            # Another version migrated the database past this one (a rolling upgrade): this
            # replica should take no more traffic.
            return web.json_response({"ok": False, "database": "ok", "migrated": False}, status=503)
        return web.json_response(
            {
                "ok": True,
                "database": "ok",
                "migrated": True,
                "adapters": sorted(server.adapters),
                "delivers_to": sorted(server.deliverer.senders),
                "outbox": {"pending": counts.get("pending", 0), "failed": counts.get("failed", 0)},
                "inbox": {"waiting": inbox.get("pending", 0), "failed": inbox.get("failed", 0)},
            }
        )

    return healthz


async def serve(settings: Settings) -> None:
    """`reflectbot serve`: one HTTP server for every platform, and the sweeps."""
    server = await build_server(settings)
    web_runner = await listen(server.app, settings.host, settings.port)
    await server.start()
    logger.info(
        "reflectbot serving on http://%s:%d (adapters: %s; prompts to: %s)",
        settings.host,
        settings.port,
        ", ".join(sorted(server.adapters)) or "none",
        ", ".join(sorted(server.deliverer.senders)),
    )
    if settings.web_base_url:
        logger.info("coordinators' web view at %s/web/ (links: reflectbot link --coordinator ID)", settings.web_base_url)
    else:
        logger.info("coordinators' web view: set WEB_BASE_URL to this server's public address to hand out links")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        logger.info("reflectbot stopping")
        await server.stop()
        await web_runner.cleanup()
        await server.close()
