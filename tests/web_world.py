"""The coordinators' web view as `reflectbot serve` serves it: the real server (store, engine,
sweeps, every route) on 127.0.0.1 and a free port, on a fresh database holding a week of planted
answers, with links signed as `reflectbot link` signs them."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.delivery import Deliverer
from bot.messages import Incoming
from bot.web_links import WebLinks
from reflectbot.connections import listen
from reflectbot.server import Server, build_server
from reflectbot.settings import Settings
from storage.importer import import_programme
from tests.conftest import PROGRAMME
from tests.fakes.slack_api import Clock
from tests.support import RecordingSender
from tests.test_digest import NOW, plant_week
from tests.test_panel_pack import ANONYMOUS, NAMED, midpoint, panel_prep, run
from tests.transcript import Transcript

# A partnership only Farhana follows, with a participant Ingrid must never see.
FARHANAS_OWN = """  - id: kry-pahal
    name: Krousar Yoeung and Pahal
    organisations: [kry, pahal]
    learning_goals:
      - id: school-meals
        text: Run school meals with the parents' committees
        outcome: innovation
"""
CHENDA = """  - id: chenda
    name: Chenda Ros
    partnership: kry-pahal
    home: kry
    host: pahal
    start: 2027-01-18
    end: 2027-08-13
    timezone: Asia/Kolkata
    language: km
    learning_goals: [school-meals]

"""
# Ingrid's participants, and the one only Farhana coordinates.
INGRIDS = ("Rina Akter", "Bishal Thapa", "Priya Sharma", "Sokha Chan", "Tanvir Hossain")
FARHANAS_ONLY = "Chenda Ros"
CHENDA_WROTE = "Parents cook on Tuesdays."
RINA_NAMED = "Rina panel aha, named"
RINA_ANONYMOUS = "Rina panel aha, anonymous"
TANVIR_ANONYMOUS = "Tanvir midpoint aha, anonymous"
# The server's clock: an hour after the planted week.
SERVED_AT = NOW + timedelta(hours=1)


def programme_file(directory: Path) -> Path:
    text = PROGRAMME.read_text(encoding="utf-8")
    text = text.replace("    partnerships: [kry-aspada]\n", "    partnerships: [kry-aspada, kry-pahal]\n", 1)
    text = text.replace("\nparticipants:\n", "\n" + FARHANAS_OWN + "\nparticipants:\n", 1)
    text = text.replace("# Permanent staff", CHENDA + "# Permanent staff", 1)
    path = directory / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebWorld:
    server: Server
    runner: web.AppRunner
    base: str
    clock: Clock
    transcript: Transcript

    @property
    def links(self) -> WebLinks:
        return WebLinks(self.server.store, self.base, self.server.settings.web_secret)

    async def link(
        self, coordinator: str, valid: timedelta = timedelta(days=14), at: datetime | None = None
    ) -> str:
        token, _claim = await self.links.issue(coordinator, at or self.clock.now, valid)
        return self.links.url(token)

    async def ask_support(self, person_id: str, words: str) -> None:
        t = self.transcript
        await t.engine.handle(Incoming("console", person_id, text=f"support {words}", is_command=True), t.now)
        await t.deliverer.drain(t.now)

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.server.close()


async def open_web_world(database_url: str, directory: Path, secret: str | None = None) -> WebWorld:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(_env_file=None, database_url=database_url, web_base_url=base, web_secret=secret)  # type: ignore[call-arg]
    clock = Clock(SERVED_AT)
    server = await build_server(settings, clock=clock)
    await import_programme(server.store, programme_file(directory))
    sender = RecordingSender()
    t = Transcript(server.engine, Deliverer(server.store, {"console": sender}), sender, NOW)
    await plant_week(t)
    await run(
        t,
        "rina",
        "panel-prep",
        panel_prep((RINA_NAMED, NAMED), (RINA_ANONYMOUS, ANONYMOUS)),
        key="panel-prep:spring-panel:rina",
    )
    await run(t, "tanvir", "midpoint", midpoint(TANVIR_ANONYMOUS, ANONYMOUS))
    await run(t, "chenda", "midpoint", {"observations": CHENDA_WROTE, "support": "1"})
    runner = await listen(server.app, "127.0.0.1", port)
    return WebWorld(server, runner, base, clock, t)
