"""Test doubles that sit behind the bot's ports (never inside our own code)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.messages import Delivery, Op, Outgoing


@dataclass
class RecordingSender:
    """An adapter that records what it was asked to send, as a platform would receive it."""

    platform: str = "console"
    supports: frozenset[Op] = frozenset({Op.MESSAGE})
    sent: list[tuple[Delivery, Outgoing]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.sent.append((delivery, message))
        return f"{self.platform}-{next(self._ids)}"

    def to(self, person_id: str) -> list[Outgoing]:
        return [m for _, m in self.sent if m.person_id == person_id]


def cli_environment(database_url: str) -> dict[str, str]:
    """The environment of `reflectbot` run as a user runs it, on that database, with none of the
    developer's platform settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "WEB_", "DATABASE_"))
    }
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(Path(__file__).parent.parent), LOG_LEVEL="WARNING")
    return env


def cli_runner(database_url: str, cwd: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`reflectbot ARGS` as a user runs it: a real process on that database, with none of the
    developer's platform settings."""
    env = cli_environment(database_url)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reflectbot.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=120,
        )

    return run
