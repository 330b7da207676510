"""The `reflectbot` command as a user runs it: real processes, piped input, a real SQLite file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROGRAMME
from tests.support import cli_runner
from tests.test_cli_mistakes import rows

ANSWERS = [
    "Patients at Sahaj pay into a community health fund.",
    "Women's groups save weekly & lend <first> to the sickest.",
    "I led a savings meeting alone.",
]
# The welcome asks where she stands on her learning goal, and why; the midpoint asks it again
# after what she learned.
WELCOME = ["2", "The groups meet, but few save yet."]
MIDPOINT = [ANSWERS[0], ANSWERS[1], "4", "Two groups now save every week.", ANSWERS[2]]


@pytest.fixture
def run(tmp_path: Path, database_url: str):
    reflectbot = cli_runner(database_url, tmp_path)

    def run(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = reflectbot(*args, stdin=stdin)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_piped_chat_is_stored_exported_and_forgotten(run) -> None:
    run("init")
    run("import", str(PROGRAMME))
    # `now` opens her welcome, and after it her midpoint, early.
    chat = run("chat", "--as", "rina", stdin="\n".join(["now", *WELCOME, "now", "all-now", *MIDPOINT]) + "\n")
    # Rina reads Bengali; her own learning goal is quoted in the question.
    assert "Form self-reliance groups that help women save money for healthcare costs" in chat.stdout
    export = json.loads(run("export", "rina").stdout)
    assert export["person"] == "rina"
    answered = [(r["flow"], r["answer"]) for r in export["reflections"]]
    assert answered == [("welcome", a) for a in WELCOME] + [("midpoint", a) for a in MIDPOINT]
    goal_question = export["reflections"][3]["question"]
    assert "Form self-reliance groups that help women save money for healthcare costs" in goal_question
    assert all(r["answered_at"] for r in export["reflections"])

    run("forget", "rina", "--yes")
    export = json.loads(run("export", "rina").stdout)
    assert export["reflections"] == [] and export["aha_moments"] == [] and export["chat_identities"] == []

    run("import", str(PROGRAMME))
    export = json.loads(run("export", "rina").stdout)
    assert export["chat_identities"] == [] and export["forgotten"] is True
    assert run("chat", "--as", "rina", stdin="", check=False).returncode != 0


def test_chat_ends_cleanly_at_end_of_input_and_continues_next_time(run) -> None:
    run("init")
    run("import", str(PROGRAMME))
    # His welcome asks where he stands on his learning goal.
    first = run("chat", "--as", "tanvir", stdin="now\n")
    assert "Hello Tanvir Hossain!" in first.stdout
    assert "Where do you stand today with your learning goal" in first.stdout
    # Tanvir's panel (April) comes before his midpoint (May): after the welcome, `now` starts
    # the panel preparation.
    second = run("chat", "--as", "tanvir", stdin="2\nI have only read about it.\nnow\nEveryone starts at dawn.\n")
    assert "Hello Tanvir Hossain!" not in second.stdout  # continued, not restarted
    assert "In one line: why that number" in second.stdout
    assert "What is an “aha” moment from your exchange" in second.stdout
    assert "May the panel hear this?" in second.stdout
    export = json.loads(run("export", "tanvir").stdout)
    assert [(r["flow"], r["answer"]) for r in export["reflections"]] == [
        ("welcome", "2"),
        ("welcome", "I have only read about it."),
        ("panel-prep", "Everyone starts at dawn."),
    ]


def test_chat_before_the_exchange_opens_nothing_until_now(run, database_url: str) -> None:
    """Today (the suite runs in 2026) is before every exchange of the fixture (2027)."""
    run("init")
    run("import", str(PROGRAMME))
    before = rows(database_url)
    looked = run("chat", "--as", "tanvir", stdin="")
    assert looked.stdout == ""  # no greeting, no question: nothing was opened
    assert "Tanvir Hossain: nothing open; next: Welcome on Mon 2027-01-18 10:00 (Asia/Phnom_Penh)" in looked.stderr
    assert "write `now` to start it now" in looked.stderr
    assert rows(database_url) == before
    started = run("chat", "--as", "tanvir", stdin="now\n")
    assert "Hello Tanvir Hossain!" in started.stdout
    assert "Tanvir Hossain: nothing open" in started.stderr
    again = run("chat", "--as", "tanvir", stdin="")
    assert "Welcome is open; its question again:" in again.stderr
    assert "Where do you stand today with your learning goal" in again.stdout


def test_unknown_person_and_missing_file_are_clear_errors(run) -> None:
    run("init")
    run("import", str(PROGRAMME))
    result = run("chat", "--as", "nobody", stdin="", check=False)
    assert result.returncode != 0 and "no person 'nobody'" in result.stderr
    result = run("import", "missing.yaml", check=False)
    assert result.returncode != 0 and "missing.yaml" in result.stderr


def test_demo_runs_without_a_terminal_and_quotes_a_learning_goal(run) -> None:
    result = run("demo", stdin="")
    assert "Form self-reliance groups that help women save money for healthcare costs" in result.stdout
