"""Quiet by default: a command run by hand logs warnings only; logs never share the stream the
conversation is printed on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROGRAMME
from tests.support import cli_environment


def reflectbot(database_url: str, cwd: Path, *args: str, stdin: str = "", **env: str):
    environment = {k: v for k, v in cli_environment(database_url).items() if k != "LOG_LEVEL"} | env
    return subprocess.run(
        [sys.executable, "-m", "reflectbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )


def test_commands_are_quiet_and_logs_stay_off_the_conversation(tmp_path: Path, database_url: str) -> None:
    assert reflectbot(database_url, tmp_path, "init").returncode == 0
    imported = reflectbot(database_url, tmp_path, "import", str(PROGRAMME))
    assert imported.returncode == 0 and " INFO " not in imported.stderr, imported.stderr

    chat = reflectbot(database_url, tmp_path, "chat", "--as", "tanvir", stdin="now\nAt dawn.\n")
    assert chat.returncode == 0 and "Hello Tanvir Hossain!" in chat.stdout
    assert [line.split(":")[0] for line in chat.stderr.splitlines()] == ["database", "Tanvir Hossain"]

    chatty = reflectbot(database_url, tmp_path, "chat", "--as", "tanvir", stdin="status\n", LOG_LEVEL="DEBUG")
    assert " DEBUG " in chatty.stderr or " INFO " in chatty.stderr, chatty.stderr
    assert " DEBUG " not in chatty.stdout and " INFO " not in chatty.stdout

    verbose = reflectbot(database_url, tmp_path, "--verbose", "import", str(PROGRAMME))
    assert "INFO storage.importer: imported programme" in verbose.stderr, verbose.stderr
    assert "INFO" not in verbose.stdout
