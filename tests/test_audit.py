"""The audit log: `export` and `forget`, run as a user runs them, leave a row each saying who,
when (the database's clock) and what (ids and counts), and never a word of what the person wrote."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from storage.db import Store
from storage.models import AuditEvent, AuditKind
from tests.conftest import PROGRAMME
from tests.support import cli_runner


async def audit_rows(database_url: str) -> list[AuditEvent]:
    store = Store(database_url)
    try:
        async with store.reading() as session:
            return list((await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).all())
    finally:
        await store.close()


async def test_export_and_forget_are_audited_without_content(tmp_path: Path, database_url: str) -> None:
    run = cli_runner(database_url, tmp_path)
    marker = "audit-marker-0f3c9a"
    assert run("init").returncode == 0
    assert run("import", str(PROGRAMME)).returncode == 0
    chat = run("chat", "--as", "tanvir", stdin=f"now\n3\nAt dawn {marker}.\nexport\n")
    assert chat.returncode == 0, chat.stderr
    assert await audit_rows(database_url) != []  # the export asked for in the chat

    started = datetime.now(UTC)
    exported = run("export", "tanvir")
    assert exported.returncode == 0 and marker in exported.stdout  # the export itself has the words
    forgot = run("forget", "tanvir", "--yes")
    assert forgot.returncode == 0, forgot.stderr
    ended = datetime.now(UTC)

    in_chat, by_hand, forgotten = await audit_rows(database_url)
    me = f"cli:{getpass.getuser()}"
    assert (in_chat.kind, in_chat.actor, in_chat.person_id) == (AuditKind.EXPORT, "person:tanvir", "tanvir")
    assert str((in_chat.detail or {})["outbox"]).startswith("export:tanvir:")
    assert (by_hand.kind, by_hand.actor, by_hand.person_id) == (AuditKind.EXPORT, me, "tanvir")
    assert (by_hand.detail or {})["reflections"] >= 1
    assert (forgotten.kind, forgotten.actor, forgotten.person_id) == (AuditKind.FORGET, me, "tanvir")
    assert (forgotten.detail or {})["answers"] >= 1 and (forgotten.detail or {})["chat_identities"] == 1
    slack = timedelta(seconds=5)
    assert started - slack <= by_hand.at <= forgotten.at <= ended + slack
    for row in (in_chat, by_hand, forgotten):
        assert marker not in repr(row.model_dump()), row

    listed = run("audit", "--since", started.isoformat())
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[1:4] for line in lines] == [
        ["export", "person=tanvir", f"actor={me}"],
        ["forget", "person=tanvir", f"actor={me}"],
    ]
    assert marker not in listed.stdout
    assert len(run("audit").stdout.splitlines()) == 3


def test_a_mistaken_since_is_one_line_and_exit_2(tmp_path: Path, database_url: str) -> None:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    listed = run("audit", "--since", "last tuesday")
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert "ISO-8601" in listed.stderr
