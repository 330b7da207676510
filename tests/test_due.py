"""The sweeps read only who is due (`Person.next_due_at`), and an import that moves a date is
seen at once: the plan is computed again, so nothing starts late or is missed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from sqlmodel import select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.plan import plan_for
from scheduler.sweeps import Snapshot, Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.models import Conversation, Person
from tests.conftest import PROGRAMME
from tests.support import RecordingSender

QUIET = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)  # nobody's conversation falls due


async def test_a_quiet_sweep_reads_nobody_and_a_moved_midpoint_still_starts_on_its_new_day(
    programme: Store, tmp_path: Path
) -> None:
    sweeps = Sweeps(Engine(programme), Deliverer(programme, {"console": RecordingSender()}))
    await sweeps.run_all(QUIET)  # after the import every plan is computed once
    async with programme.reading() as session:
        assert (await Snapshot.load(session, QUIET)).due == []

    # Rina's exchange is brought forward by three weeks: her midpoint comes earlier.
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    rina["start"], rina["end"] = date(2026, 12, 14), date(2027, 6, 4)
    moved = tmp_path / "programme.yaml"
    moved.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    await import_programme(programme, moved)
    async with programme.session() as session:
        person = await session.get(Person, "rina")
        assert person is not None
        midpoint = next(p for p in await plan_for(session, person) if p.flow == "midpoint")
    assert midpoint.due_at < datetime(2027, 3, 31, tzinfo=UTC)

    await sweeps.run_all(midpoint.due_at)
    async with programme.reading() as session:
        started = (
            await session.exec(select(Conversation).where(Conversation.key == "midpoint:rina"))
        ).one_or_none()
    assert started is not None and started.started_at == midpoint.due_at


async def test_the_final_reflection_is_not_started_for_someone_long_home(programme: Store) -> None:
    """Rina's exchange ended on 25 June 2027: her final reflection starts in the weeks around
    then (tests/test_scenarios.py), but a tick months later (the server was off all summer) does
    not start it."""
    sweeps = Sweeps(Engine(programme), Deliverer(programme, {"console": RecordingSender()}))
    autumn = datetime(2027, 10, 4, 4, 30, tzinfo=UTC)  # a Monday, 10:15 in Kathmandu
    await sweeps.run_all(autumn)
    async with programme.reading() as session:
        final = (
            await session.exec(select(Conversation).where(Conversation.key == "final:rina"))
        ).one_or_none()
    assert final is None

    # Nothing is left due for her: later sweeps do not read her again.
    async with programme.reading() as session:
        assert [p.id for p in (await Snapshot.load(session, autumn)).due if p.id == "rina"] == []
