"""What every `reflectbot` command shares: the settings (and logging) built once, the store opened
and migrated around the work, and how a command fails."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import typer

from reflectbot.settings import Settings

T = TypeVar("T")


def load_settings() -> Settings:
    built = Settings()
    logging.basicConfig(
        level=built.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (a line per migration check, two per sweep) would drown our own lines.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return built


def run(work: Callable[[Any], Awaitable[T]], given: Settings | None = None) -> T:
    """`work(store)` on the migrated database of the settings, the store closed afterwards."""
    from storage.db import Store
    from storage.migrate import migrate

    chosen = given or load_settings()

    async def main() -> T:
        store = Store(chosen.database_url)
        try:
            await migrate(store)
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(main())


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def parse_instant(value: str) -> datetime:
    """ISO-8601; a time without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time such as 2027-03-31T04:15") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
