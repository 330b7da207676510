"""`reflectbot demo`: the sample programme in a throwaway database, on a simulated clock."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import TextIO

from adapters.console.chat import chat
from bot.engine import Engine
from bot.plan import plan_for
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Person

SCRIPT = [
    "all-now",
    "Patients pay for medicine before treatment, and the hospital runs a community health insurance.",
    "Women's groups at Sahaj save a little every week & decide together who may borrow <first>.",
    "I ran my first savings-group meeting on my own.",
    "Write a short guide for our field staff.",
    "A health savings scheme with our partner clinics.",
    "Saving together makes people plan for illness before it comes.",
    "2",
    "1",
]


async def run_demo(programme: Path, out: TextIO, interactive: bool = False, person_id: str = "rina") -> int:
    with tempfile.TemporaryDirectory(prefix="reflectbot-demo-") as tmp:
        store = Store(f"sqlite:///{tmp}/demo.db")
        try:
            await migrate(store)
            summary = await import_programme(store, programme)
            print(f"Imported {summary.programme}: {summary.people} people.\n", file=out)
            async with store.session() as session:
                person = await session.get(Person, person_id)
                assert person is not None
                midpoint = next(p for p in await plan_for(session, person) if p.flow == "midpoint")
            print(
                f"=== {person.name}, midpoint reflection, {midpoint.due_at:%Y-%m-%d %H:%M} UTC ===\n",
                file=out,
            )
            replies = io.StringIO("\n".join(SCRIPT) + "\n")
            await chat(Engine(store), person_id, replies, out, lambda: midpoint.due_at, echo=True)
        finally:
            await store.close()
    return 0
