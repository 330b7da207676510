"""Every mistake a user can make ends in one or two lines naming what is wrong and where, exit
code 2, no traceback, and the database as it was: real `reflectbot` processes."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import Store
from tests.conftest import PROGRAMME, table_rows
from tests.support import cli_environment, cli_runner

FIXTURE = PROGRAMME.read_text(encoding="utf-8")


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    async def read() -> dict[str, list[tuple[object, ...]]]:
        store = Store(url)
        try:
            return await table_rows(store)
        finally:
            await store.close()

    return asyncio.run(read())


def assert_user_error(result: subprocess.CompletedProcess[str], *named: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    for text in named:
        assert text in result.stderr, result.stderr
    # What is wrong, where and what to do: a line or two (plus the line naming the database).
    assert len([line for line in result.stderr.splitlines() if not line.startswith("database:")]) <= 3


@pytest.fixture
def ready(tmp_path: Path, database_url: str):
    """A migrated database holding the sample programme, and a runner on it."""
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    assert run("import", str(PROGRAMME)).returncode == 0
    return run


def _import_changes_nothing(ready, database_url: str, path: Path, *named: str) -> None:
    before = rows(database_url)
    assert_user_error(ready("import", str(path)), str(path), *named)
    assert rows(database_url) == before


@pytest.mark.parametrize("wrong", ["2027-13-11", "2027-02-30"])
def test_an_impossible_date_names_file_line_and_field(
    ready, database_url: str, tmp_path: Path, wrong: str
) -> None:
    path = tmp_path / "dates.yaml"
    text = FIXTURE.replace("start: 2027-01-04", f"start: {wrong}", 1)
    assert text != FIXTURE
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if wrong in t)
    _import_changes_nothing(ready, database_url, path, f"{path}:{line}:", "field 'start'")


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("notepad.yaml", FIXTURE.encode("utf-16"), "UTF-16"),
        ("latin1.yaml", FIXTURE.replace("Rina Akter", "Bjørn").encode("latin-1"), "UTF-8"),
        ("image.yaml", bytes(range(256)) * 4, "not text"),
        ("list.yaml", b"- one\n- two\n", "not a programme file"),
    ],
)
def test_a_file_that_is_not_a_programme_file_is_named_and_changes_nothing(
    ready, database_url: str, tmp_path: Path, name: str, content: bytes, named: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    _import_changes_nothing(ready, database_url, path, named)


def test_latin1_names_the_line_of_the_first_bad_byte(ready, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(FIXTURE.replace("Rina Akter", "Bjørn").encode("latin-1"))
    line = next(i for i, t in enumerate(FIXTURE.splitlines(), 1) if "Rina Akter" in t)
    _import_changes_nothing(ready, database_url, path, f"{path}:{line}:")


def test_a_missing_file_and_a_directory_are_named(ready, database_url: str, tmp_path: Path) -> None:
    _import_changes_nothing(ready, database_url, tmp_path / "missing.yaml", "no such file")
    _import_changes_nothing(ready, database_url, tmp_path, "is a directory")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PORT", "eighty"),
        ("LOG_LEVEL", "loud"),
        ("SLACK_API_URL", "ftp://slack.example"),
        ("SWEEP_INTERVAL_SECONDS", "soon"),
    ],
)
def test_a_bad_setting_is_named(ready, database_url: str, tmp_path: Path, setting: str, value: str) -> None:
    before = rows(database_url)
    env = cli_environment(database_url) | {setting: value}
    result = subprocess.run(
        [sys.executable, "-m", "reflectbot.cli", "export", "rina"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert_user_error(result, f"setting {setting}={value!r}")
    assert rows(database_url) == before


def test_a_bad_database_url_says_what_to_write(tmp_path: Path) -> None:
    result = cli_runner("mysql://localhost/reflect", tmp_path)("init")
    assert_user_error(result, "DATABASE_URL", "sqlite:///")


def test_a_command_in_another_directory_creates_no_database(ready, tmp_path: Path) -> None:
    """The default DATABASE_URL is relative: run elsewhere, it names a file that is not there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli_runner("sqlite:///reflectbot.db", elsewhere)("export", "rina")
    assert_user_error(result, str(elsewhere / "reflectbot.db"), "reflectbot init")
    assert list(elsewhere.iterdir()) == []


def test_a_database_that_is_not_migrated_is_refused(tmp_path: Path, database_url: str) -> None:
    run = cli_runner(database_url, tmp_path)
    before = rows(database_url)
    for args in (("import", str(PROGRAMME)), ("export", "rina"), ("tick", "--at", "2027-03-31T04:15", "--yes")):
        assert_user_error(run(*args), "reflectbot init")
    assert rows(database_url) == before


def test_a_database_in_a_directory_that_cannot_hold_it_is_named(tmp_path: Path) -> None:
    """SQLite only: a file path. (The suite runs as root here, which may write a read-only
    directory, so the directory is made impossible instead: its parent is a plain file.)"""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    url = f"sqlite:///{blocker}/reflectbot.db"
    assert_user_error(cli_runner(url, tmp_path)("init"), str(blocker / "reflectbot.db"), "directory")


def test_serve_on_a_port_in_use_names_the_port(
    ready, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PORT", str(port))
        result = cli_runner(database_url, tmp_path)("serve")
    assert_user_error(result, f"127.0.0.1:{port}", "already in use")


def test_forget_asks_first_and_scripts_say_yes(ready, database_url: str) -> None:
    before = rows(database_url)
    assert_user_error(ready("forget", "rina", stdin=""), "--yes")
    assert rows(database_url) == before
    result = ready("forget", "rina", "--yes")
    assert result.returncode == 0 and "forgot rina" in result.stdout


def test_unknown_names_are_user_errors(ready, database_url: str) -> None:
    before = rows(database_url)
    assert_user_error(ready("export", "nobody"), "no person 'nobody'")
    assert_user_error(ready("digest", "--coordinator", "nobody"), "no coordinator 'nobody'")
    assert_user_error(ready("slack-manifest", "--url", "http://reflect.example.org"), "https://")
    assert rows(database_url) == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = cli_runner("mysql://localhost/reflect", tmp_path)("--debug", "init")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_every_database_command_names_its_database(ready, database_url: str) -> None:
    from storage.db import describe

    for args in (("export", "rina"), ("digest", "--coordinator", "ingrid", "--at", "2027-03-31T05:15")):
        result = ready(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count(f"database: {describe(database_url)}") == 1, result.stderr
    assert describe(database_url) in ready("init").stdout


def test_tick_far_from_now_sends_nothing_unless_meant(ready, database_url: str) -> None:
    """README's old example, `tick --at 2027-03-31T04:15`, sent that day's real prompts at once."""
    before = rows(database_url)
    assert_user_error(ready("tick", "--at", "2027-03-31T04:15"), "--at 2027-03-31T04:15", "--yes")
    assert rows(database_url) == before
    now = ready("tick")  # as cron runs it: as of now (2026, before every exchange of the fixture)
    assert now.returncode == 0 and "0 conversations started" in now.stderr, now.stderr
