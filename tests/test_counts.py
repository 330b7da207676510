"""Counts read right in the command line's summaries: "1 forgotten person", "2 panels" (English,
by Babel's plural rule; the texts people read in chat take their catalogue's forms)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import english_count
from tests.conftest import PROGRAMME
from tests.support import cli_runner


def test_english_counts_take_the_singular_for_one_only() -> None:
    assert [english_count(n, "panel", "panels") for n in (0, 1, 2)] == ["0 panels", "1 panel", "2 panels"]
    assert english_count(1, "person", "people") == "1 person"


def test_the_import_summary_counts_in_english(tmp_path: Path, database_url: str) -> None:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    first = run("import", str(PROGRAMME))
    assert first.returncode == 0, first.stderr
    summary = first.stdout.splitlines()[0]
    assert re.fullmatch(
        r"imported .+: \d+ organisations?, \d+ partnerships?, \d+ (person|people), \d+ panels?", summary
    ), summary
    assert not re.search(r"\b1 (organisations|partnerships|people|panels)\b", summary), summary
    assert run("forget", "rina", "--yes").returncode == 0
    again = run("import", str(PROGRAMME))
    assert "(1 forgotten person left forgotten)" in again.stdout, again.stdout
