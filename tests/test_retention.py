"""Retention: `retention.delete_after_months` in the programme file deletes what a person wrote
that many months after their exchange ended, and not a day before; the sweeps do it once, the
audit log says so, and the tick summary counts it.

The exchanges here are set relative to today: the sweeps never delete as of a time later than
the real clock, so the dates must really be past."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.messages import Incoming
from bot.plan import plan_for
from bot.privacy import export_person
from scheduler.sweeps import Sweeps
from storage import audit
from storage.db import Store
from storage.importer import import_programme
from storage.models import AuditKind, OutboxMessage, Person
from storage.programme_file import ProgrammeFileError, load_programme_file
from storage.retention import add_months, deletion_due
from tests.conftest import PROGRAMME, ROOT, table_rows
from tests.support import RecordingSender, cli_environment, cli_runner
from tests.transcript import Transcript

MONTHS = 6
TODAY = datetime.now(UTC).date()


def programme_file(directory: Path, months: int | None = MONTHS, **retention: Any) -> Path:
    """The tests' programme with Rina's exchange over for more than `MONTHS` months and Tanvir's
    for fewer; everyone else's still to come."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    if months is not None or retention:
        data["programme"]["retention"] = retention or {"delete_after_months": months}
    long_ago = add_months(TODAY, -MONTHS) - timedelta(days=20)
    recently = add_months(TODAY, -MONTHS) + timedelta(days=20)
    for person in data["participants"]:
        end = {"rina": long_ago, "tanvir": recently}.get(person["id"], TODAY + timedelta(days=200))
        person["start"], person["end"] = end - timedelta(days=170), end
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Programme:
    store: Store
    transcript: Transcript
    sweeps: Sweeps
    words: dict[str, str]  # person → the marker in everything they wrote

    async def tick(self) -> int:
        return (await self.sweeps.run_all(datetime.now(UTC))).retention


async def live_through(t: Transcript, person_id: str, marker: str) -> None:
    """The person's midpoint, as it happened during their exchange: answers, a note, a support
    request, an aha moment, and an export asked for in the chat."""
    async with t.engine.store.session() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        due = next(p.due_at for p in await plan_for(session, person) if p.flow == "midpoint")
    t.now = due
    await t.start(person_id, "midpoint")
    for answer in ("observed", "learned"):
        await t.send(person_id, f"{answer} {marker}")
    await t.send(person_id, "3")  # where they stand on their learning goal
    await t.send(person_id, f"why {marker}")
    await t.send(person_id, f"a note {marker}")
    for command in (f"share an aha {marker}", f"support I need help {marker}", "export"):
        await t.engine.handle(Incoming("console", person_id, text=command, is_command=True), t.now)
    await t.deliverer.drain(t.now)


async def open_programme(store: Store, directory: Path, months: int | None = MONTHS) -> Programme:
    await import_programme(store, programme_file(directory, months))
    engine = Engine(store, Translator())
    deliverer = Deliverer(store, {"console": RecordingSender()})
    t = Transcript(engine, deliverer, deliverer.senders["console"], datetime.now(UTC))  # type: ignore[arg-type]
    words = {p: f"{p}-wrote-{uuid.uuid4().hex}" for p in ("rina", "tanvir")}
    for person_id, marker in words.items():
        await live_through(t, person_id, marker)
    return Programme(store, t, Sweeps(engine, deliverer), words)


@pytest.fixture
async def lived(store: Store, tmp_path: Path) -> AsyncIterator[Programme]:
    yield await open_programme(store, tmp_path)


async def everything_stored(store: Store) -> str:
    return json.dumps(await table_rows(store), ensure_ascii=False)


async def exports_of(store: Store, person_id: str) -> list[tuple[int | None, str]]:
    async with store.reading() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.key).startswith(f"export:{person_id}:"))
            .order_by(col(OutboxMessage.id))
        )
        return [(r.id, str(r.payload.get("text"))) for r in rows.all()]


async def retention_rows(store: Store) -> list[audit.Entry]:
    async with store.reading() as session:
        return await audit.entries(session, kind=AuditKind.RETENTION)


async def test_what_a_person_wrote_goes_months_after_their_exchange_and_not_before(lived: Programme) -> None:
    store, rina, tanvir = lived.store, lived.words["rina"], lived.words["tanvir"]
    assert rina in await everything_stored(store) and tanvir in await everything_stored(store)
    exported = await exports_of(store, "rina")
    assert len(exported) == 1 and exported[0][1]  # the export asked for, with its introduction

    assert await lived.tick() == 1

    stored = await everything_stored(store)
    assert rina not in stored  # in no column of any table, copies of messages included
    data = await export_person(store, "rina")
    assert data["notes"] == [] and data["aha_moments"] == []
    assert data["reflections"] and {r["answer"] for r in data["reflections"]} == {""}
    assert [s["text"] for s in data["support_requests"]] == [""]
    assert [i for i, _ in await exports_of(store, "rina")] == [exported[0][0]]  # the row, not its text
    assert [text for _, text in await exports_of(store, "rina")] == [""]

    # Tanvir's exchange ended fewer than six months ago: everything of his stays.
    assert tanvir in stored
    kept = await export_person(store, "tanvir")
    assert [n["text"] for n in kept["notes"]] == [f"a note {tanvir}"]
    assert f"observed {tanvir}" in [r["answer"] for r in kept["reflections"]]
    assert (await exports_of(store, "tanvir"))[0][1]

    # Done once: a second tick finds nothing left, deletes nothing and logs nothing more.
    before = await table_rows(store)
    assert await lived.tick() == 0
    after = await table_rows(store)
    assert after["auditevent"] == before["auditevent"]
    (row,) = await retention_rows(store)
    assert (row.kind, row.person_id, row.actor) == (AuditKind.RETENTION, "rina", "scheduler")
    assert row.detail["answers"] == 4 and row.detail["notes"] == 1 and row.detail["exports"] == 1
    assert row.detail["months"] == MONTHS
    assert abs(row.at - datetime.now(UTC)) < timedelta(minutes=5)  # the database's clock, now
    assert rina not in row.line()


async def test_a_person_who_writes_again_afterwards_has_that_deleted_too(lived: Programme) -> None:
    assert await lived.tick() == 1
    later = f"rina-again-{uuid.uuid4().hex}"
    await lived.transcript.engine.handle(
        Incoming("console", "rina", text=f"share {later}", is_command=True), datetime.now(UTC)
    )
    assert later in await everything_stored(lived.store)
    assert await lived.tick() == 1
    assert later not in await everything_stored(lived.store)
    assert [r.person_id for r in await retention_rows(lived.store)] == ["rina", "rina"]


async def test_with_retention_off_nothing_is_deleted(store: Store, tmp_path: Path) -> None:
    lived = await open_programme(store, tmp_path, months=None)
    summary = await import_programme(store, programme_file(tmp_path, months=None))
    assert summary.retention_line().startswith("retention: off")
    before = await table_rows(store)
    assert await lived.tick() == 0
    after = await table_rows(store)
    assert after["answer"] == before["answer"] and after["note"] == before["note"]
    assert after["ahamoment"] == before["ahamoment"]
    assert lived.words["rina"] in await everything_stored(store)
    assert await retention_rows(store) == []


def test_deletion_is_due_only_after_the_last_day_plus_the_months() -> None:
    dhaka = ZoneInfo("Asia/Dhaka")
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 6, 25), 12) == date(2028, 6, 25)
    # The exchange's last day is 25 June 2027: its end is midnight after it, local time.
    assert deletion_due(date(2027, 6, 25), 12, dhaka) == datetime(2028, 6, 25, 18, 0, tzinfo=UTC)


async def test_two_ticks_at_once_delete_once_and_log_once(tmp_path: Path, database_url: str) -> None:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    imported = run("import", str(programme_file(tmp_path)))
    assert imported.returncode == 0, imported.stderr
    assert "retention: answers, notes and exports are deleted 6 months after each exchange ends" in imported.stdout
    store = Store(database_url)
    try:
        engine = Engine(store, Translator())
        deliverer = Deliverer(store, {"console": RecordingSender()})
        t = Transcript(engine, deliverer, deliverer.senders["console"], datetime.now(UTC))  # type: ignore[arg-type]
        marker = f"rina-wrote-{uuid.uuid4().hex}"
        await live_through(t, "rina", marker)

        barrier = tmp_path / "barrier"
        barrier.mkdir()
        env = cli_environment(database_url)
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.processes.tick_after_barrier",
                database_url,
                datetime.now(UTC).isoformat(),
                str(barrier),
                f"w{n}",
                "2",
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n in range(2)
        ]
        spans = []
        for worker in workers:
            _out, err = await worker.communicate()
            assert worker.returncode == 0, err.decode()[-2000:]
            spans.append(tuple(map(float, err.decode().strip().splitlines()[-1].split())))
        assert max(s for s, _ in spans) < min(e for _, e in spans), f"the ticks did not overlap: {spans}"
        assert marker not in await everything_stored(store)
        assert [r.person_id for r in await retention_rows(store)] == ["rina"]
    finally:
        await store.close()

    ticked = run("tick")
    assert ticked.returncode == 0, ticked.stderr
    assert "retention" not in ticked.stderr  # nothing left to delete
    listed = run("audit")
    assert listed.returncode == 0, listed.stderr
    kinds = [line.split()[1:4] for line in listed.stdout.splitlines()]
    assert kinds == [["export", "person=rina", "actor=person:rina"], ["retention", "person=rina", "actor=scheduler"]]
    assert marker not in listed.stdout


async def test_the_tick_summary_counts_the_people_whose_words_were_deleted(
    tmp_path: Path, database_url: str
) -> None:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    assert run("import", str(programme_file(tmp_path))).returncode == 0
    store = Store(database_url)
    try:
        engine = Engine(store, Translator())
        deliverer = Deliverer(store, {"console": RecordingSender()})
        t = Transcript(engine, deliverer, deliverer.senders["console"], datetime.now(UTC))  # type: ignore[arg-type]
        await live_through(t, "rina", "words")
    finally:
        await store.close()
    ticked = run("tick")
    assert ticked.returncode == 0, ticked.stderr
    assert "; retention: deleted what 1 person wrote" in ticked.stderr, ticked.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"delete_after_months": 0}, "greater than or equal to 1"),
        ({"delete_after_months": "twelve"}, "valid integer"),
        ({"delete_after": 12}, "unknown setting"),
    ],
)
async def test_a_broken_retention_setting_names_file_line_and_field_and_changes_nothing(
    programme: Store, tmp_path: Path, setting: dict[str, Any], message: str
) -> None:
    path = programme_file(tmp_path, **setting)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "delete_after" in text)
    before = await table_rows(programme)
    with pytest.raises(ProgrammeFileError) as caught:
        load_programme_file(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.line == line and problem.entry == "programme"
    assert problem.field == f"retention.{next(iter(setting))}" and message in problem.message
    with pytest.raises(ProgrammeFileError):
        await import_programme(programme, path)
    assert await table_rows(programme) == before
