"""`reflectbot demo` as `make demo` runs it: a timeline in time order that an English reader can
follow, and a database and reports left behind to explore."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.support import cli_runner

STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \w{3} \d\d:\d\d) UTC ")


def test_the_demo_leaves_its_database_and_reports_and_starts_afresh(tmp_path: Path) -> None:
    run = cli_runner("sqlite:///unused.db", tmp_path)
    first = run("demo", stdin="")
    assert first.returncode == 0, first.stderr
    stamps = [m.group(1) for line in first.stdout.splitlines() if (m := STAMP.match(line))]
    assert len(stamps) > 100 and stamps == sorted(stamps)
    # A choice answer shows the label chosen, and its question the options.
    assert re.search(r"← Rina Akter +1 \(Share with my name\)", first.stdout), first.stdout
    assert "May the panel hear this?  {1. Share with my name  2. Share anonymously" in first.stdout
    assert "…" not in first.stdout
    # Digests are one line each with their file; weeks without answers are left out.
    digests = [line for line in first.stdout.splitlines() if "## " in line and "weekly digest" in line]
    assert digests and all("demo/digests/" in line for line in digests)
    assert "weekly digests of weeks without answers left out" in first.stdout

    demo = tmp_path / "demo"
    outcomes = (demo / "outcomes.html").read_text(encoding="utf-8")
    assert "Technical competence" in outcomes and ("<svg" in outcomes or "data:image/png" in outcomes)
    assert "Weekly digest for Ingrid Solberg" in (demo / "digest-ingrid.html").read_text(encoding="utf-8")
    assert (demo / "panel-pack-spring-panel.html").exists()
    assert "DATABASE_URL=sqlite:///demo/reflectbot.db .venv/bin/reflectbot chat --as rina" in first.stdout

    explore = cli_runner("sqlite:///demo/reflectbot.db", tmp_path)("export", "rina")
    assert explore.returncode == 0, explore.stderr
    assert len(json.loads(explore.stdout)["reflections"]) > 5

    again = run("demo", stdin="")
    sent = re.compile(r"^(\d+) messages sent", re.M)
    assert sent.search(again.stdout).group(1) == sent.search(first.stdout).group(1)  # type: ignore[union-attr]


def test_the_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "demo"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    result: subprocess.CompletedProcess[str] = cli_runner("sqlite:///unused.db", tmp_path)("demo", stdin="")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "demo holds files the demo did not make" in result.stderr
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "mine"
