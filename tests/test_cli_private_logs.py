"""A real `reflectbot` process writes nothing a person wrote to its log, even at DEBUG and when
the reply cannot be kept: at DEBUG the database libraries log each statement with its parameters
(the reply's text), and a failed statement's error quotes them. The handler the command installs
carries the privacy filter (`reflectbot.logs.PrivateRecords`)."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from reflectbot.cli import app
from storage.db import Store
from tests.conftest import PROGRAMME
from tests.test_cli_logging import reflectbot


async def drop_answers(database_url: str) -> None:
    store = Store(database_url)
    try:
        async with store.engine.begin() as connection:
            await connection.execute(text("DROP TABLE answer"))
    finally:
        await store.close()


async def test_a_reply_that_cannot_be_kept_leaves_no_word_of_it_in_the_log(
    tmp_path: Path, database_url: str
) -> None:
    marker = f"secret-{uuid.uuid4().hex}"
    assert reflectbot(database_url, tmp_path, "init").returncode == 0
    assert reflectbot(database_url, tmp_path, "import", str(PROGRAMME)).returncode == 0
    await drop_answers(database_url)
    # The welcome's rating is skipped; the words go to its "why".
    chat = reflectbot(
        database_url, tmp_path, "--verbose", "chat", "--as", "tanvir", stdin=f"now\nskip\nAt dawn {marker}.\n"
    )
    assert "In one line: why that number" in chat.stdout  # the words answer a text question
    assert marker not in chat.stderr
    # The failure did happen and was logged, by the type of its error, with the statements
    # around it (their parameters withheld).
    assert "inbox: reply" in chat.stderr and "not taken (" in chat.stderr, chat.stderr[-3000:]
    assert "text withheld" in chat.stderr
    assert "At dawn" in chat.stdout  # the terminal echoes the words, as it should: not a log


def test_a_command_run_in_process_leaves_logging_as_it_found_it(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A command run inside another program (here pytest, whose handlers are on the root
    logger) adds no handler of its own, so that program's logs (caplog) work as before."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert root.handlers == handlers and root.level == level
    with caplog.at_level(logging.INFO, logger="tests"):
        logging.getLogger("tests.after").info("still caught")
    assert caplog.messages == ["still caught"]
