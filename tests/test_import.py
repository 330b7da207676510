"""`reflectbot import`: the shared fixture as it is, idempotence, and broken files that change nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.privacy import export_person, forget_person
from reflectbot.cli import app
from storage.db import Store
from storage.importer import import_programme
from storage.models import ChatIdentity, LearningGoal, Person, PersonGoal
from tests.conftest import PROGRAMME, table_rows

FIXTURE = PROGRAMME.read_text(encoding="utf-8")
PEOPLE = ["ingrid", "farhana", "rina", "bishal", "priya", "sokha", "tanvir", "nasrin", "dawa", "vanna"]


async def test_fixture_imports_as_it_is(programme: Store) -> None:
    async with programme.session() as session:
        people = (await session.exec(select(Person))).all()
        assert sorted(p.id for p in people) == sorted(PEOPLE)
        rina = await session.get(Person, "rina")
        assert rina is not None and (rina.timezone, rina.language, rina.host_organisation_id) == (
            "Asia/Kathmandu",
            "bn",
            "sahaj",
        )
        goals = (await session.exec(select(PersonGoal).where(PersonGoal.person_id == "sokha"))).all()
        assert [g.goal_id for g in sorted(goals, key=lambda g: g.position)] == [
            "family-practices",
            "adapt-training-manuals",
        ]
        goal = await session.get(LearningGoal, "self-reliance-groups")
        assert goal is not None and goal.outcome == "organisational-development"
        identities = (await session.exec(select(ChatIdentity))).all()
        assert len(identities) == 10


async def test_importing_twice_changes_no_row_and_no_export(programme: Store) -> None:
    before = await table_rows(programme)
    exports = [await export_person(programme, p) for p in PEOPLE]
    await import_programme(programme, PROGRAMME)
    assert await table_rows(programme) == before
    assert [await export_person(programme, p) for p in PEOPLE] == exports


async def test_an_updated_file_updates_in_place(programme: Store, tmp_path: Path) -> None:
    changed = tmp_path / "programme.yaml"
    changed.write_text(FIXTURE.replace("name: Rina Akter", "name: Rina Akter Khan"), encoding="utf-8")
    await import_programme(programme, changed)
    async with programme.session() as session:
        assert (await session.get(Person, "rina")).name == "Rina Akter Khan"  # type: ignore[union-attr]
        assert len((await session.exec(select(Person))).all()) == len(PEOPLE)


async def test_a_forgotten_person_stays_forgotten_after_import(programme: Store) -> None:
    await forget_person(programme, "rina")
    await import_programme(programme, PROGRAMME)
    async with programme.session() as session:
        rina = await session.get(Person, "rina")
        assert rina is not None and rina.forgotten and rina.name == "(forgotten)"
        assert (await session.exec(select(ChatIdentity).where(ChatIdentity.person_id == "rina"))).all() == []
        assert (
            await session.exec(select(ChatIdentity).where(ChatIdentity.external_id == "U0RINA0001"))
        ).all() == []


def _break(old: str, new: str, count: int = 1) -> str:
    assert old in FIXTURE, old
    return FIXTURE.replace(old, new, count)


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


BROKEN = {
    "yaml syntax": (
        _break(
            "    partnership: aspada-sahaj\n    home: aspada",
            "    partnership: [aspada-sahaj\n    home: aspada",
        ),
        None,
        "participants entry 1 (id 'rina')",
        "",
        "YAML syntax error",
    ),
    "unknown partnership": (
        _break("    partnership: aspada-pahal\n", "    partnership: aspada-nowhere\n"),
        "partnership: aspada-nowhere",
        "participants entry 3 (id 'priya')",
        "partnership",
        "unknown partnership 'aspada-nowhere'",
    ),
    "unknown organisation": (
        _break("    host: sahaj\n", "    host: atlantis\n"),
        "host: atlantis",
        "participants entry 1 (id 'rina')",
        "host",
        "unknown organisation 'atlantis'",
    ),
    "unknown goal": (
        _break("learning_goals: [urban-health-access]", "learning_goals: [urban-health-acess]"),
        "learning_goals: [urban-health-acess]",
        "participants entry 3 (id 'priya')",
        "learning_goals",
        "unknown learning goal 'urban-health-acess'",
    ),
    "end before start": (
        _break("    end: 2027-07-02\n", "    end: 2026-07-02\n"),
        "end: 2026-07-02",
        "participants entry 2 (id 'bishal')",
        "end",
        "is not after start",
    ),
    "duplicate person": (
        _break("  - id: bishal\n", "  - id: rina\n"),
        "  - id: rina\n    name: Bishal",
        "participants entry 2 (id 'rina')",
        "id",
        "duplicate person id 'rina'",
    ),
    "unknown time zone": (
        _break("    timezone: Asia/Kathmandu\n", "    timezone: Asia/Kathmandoo\n"),
        "timezone: Asia/Kathmandoo",
        "participants entry 1 (id 'rina')",
        "timezone",
        "unknown time zone 'Asia/Kathmandoo'",
    ),
    "not a language": (
        _break("    language: hi\n", "    language: hindustani\n"),
        "language: hindustani",
        "participants entry 3 (id 'priya')",
        "language",
        "'hindustani' is not a language code",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_a_broken_file_names_file_line_entry_field_and_changes_nothing(
    case: str, programme: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, fragment, entry, field, message = BROKEN[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    before = await table_rows(programme)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["import", str(path)])
    assert result.exit_code != 0
    output = result.stderr
    if fragment is None:  # a syntax error: the parser's line, at or just after the break
        found = re.search(rf"{re.escape(str(path))}:(\d+): ", output)
        broken_at = _line_of(text, "partnership: [aspada-sahaj")
        assert found and broken_at <= int(found.group(1)) <= broken_at + 3, output
    else:
        assert f"{path}:{_line_of(text, fragment)}: " in output, output
    assert entry in output and message in output, output
    if field:
        assert f"field '{field}'" in output, output
    assert await table_rows(programme) == before
