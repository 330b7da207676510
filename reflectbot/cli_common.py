"""What every `reflectbot` command shares: the settings (and logging) built once, the store opened
around the work, and how a command fails.

A mistake a user can make (a bad setting, a missing database, a port in use) ends in one or two
lines saying what is wrong, where and what to do, and exit code 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

import typer
from pydantic import ValidationError

from reflectbot.logs import FORMAT, PrivateRecords
from reflectbot.settings import Settings

T = TypeVar("T")
USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; its message is printed as it is, after "error: "."""


class Options:
    """The global options (`reflectbot --debug --verbose COMMAND`), set by the app's callback."""

    debug = False
    verbose = False


def configure_logging(level: str, stream: TextIO) -> None:
    """The one place a command sets logging up: a handler on `stream` (never the stream a
    conversation is printed on) with the filter that keeps what people wrote out of every line
    (`reflectbot.logs.PrivateRecords`).

    It is installed only where nothing else handles logs yet (a command in a process of its
    own), and then kept for the process's life (a second call sets the level again). A command
    run inside another program's process (a test's CliRunner, under pytest's handlers) leaves
    that program's logging as it found it, as `logging.basicConfig` did."""
    # Library chatter (a line per migration check, two per sweep) would drown our own lines.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    root = logging.getLogger()
    if not any(isinstance(h, _CommandHandler) for h in root.handlers):
        if root.handlers:
            return
        handler = _CommandHandler(stream)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(PrivateRecords())
        root.addHandler(handler)
    root.setLevel(level)


class _CommandHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler a command installs (told apart from anyone else's)."""


def settings_problem(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"setting {name}={err['input']!r} (environment or .env): {message}")
    return "\n  ".join(lines)


def load_settings(interactive: bool = True) -> Settings:
    """The settings, checked; logging at WARNING for a command run by hand, INFO for a service,
    unless LOG_LEVEL or --verbose says otherwise."""
    from storage.db import DatabaseUrlError, engine_arguments

    try:
        built = Settings()
    except ValidationError as exc:
        raise UserError(settings_problem(exc)) from None
    try:
        engine_arguments(built.database_url)
    except DatabaseUrlError as exc:
        raise UserError(str(exc)) from None
    level = "DEBUG" if Options.verbose else built.log_level or ("WARNING" if interactive else "INFO")
    configure_logging(level, sys.stderr)
    return built


def announce_database(settings: Settings) -> None:
    """Name the database once, on stderr, so nobody wonders which one a command used."""
    from storage.db import describe

    typer.echo(f"database: {describe(settings.database_url)} (DATABASE_URL)", err=True)


@contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """A database that cannot be opened or written becomes one line naming it."""
    from sqlalchemy.exc import DBAPIError

    from storage.db import describe
    from storage.migrate import DatabaseNotReady

    where = describe(settings.database_url)
    try:
        yield
    except DatabaseNotReady as exc:
        raise UserError(str(exc)) from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        hint = (
            "check that the file and its directory exist and that you may write to them"
            if settings.database_url.startswith("sqlite")
            else "check DATABASE_URL and that the server is running"
        )
        raise UserError(f"cannot use the database {where}: {reason}\n  {hint}") from None
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL) and "bind" in str(exc):
            raise
        raise UserError(f"cannot reach the database {where}: {exc.strerror or exc}") from None


async def ready_store(settings: Settings, create: bool = False) -> Any:
    """The store of DATABASE_URL: migrated when `create` (init), else checked to be migrated
    already, so that a command run in the wrong place creates nothing."""
    from storage.db import Store
    from storage.migrate import check_directory, check_exists, check_ready, migrate

    if not create:
        check_exists(settings.database_url)
    else:
        check_directory(settings.database_url)
    store = Store(settings.database_url)
    try:
        if create:
            await migrate(store)
        else:
            await check_ready(store)
    except BaseException:
        await store.close()
        raise
    return store


def run(work: Callable[[Any], Awaitable[T]], given: Settings | None = None, create: bool = False) -> T:
    """`work(store)` on the database of the settings, the store closed afterwards."""
    chosen = given or load_settings()
    if not create:
        announce_database(chosen)

    async def main() -> T:
        store = await ready_store(chosen, create)
        try:
            return await work(store)
        finally:
            await store.close()

    with database_errors(chosen):
        return asyncio.run(main())


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=USER_ERROR)


def parse_instant(value: str) -> datetime:
    """ISO-8601; a time without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time such as 2027-03-31T04:15") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class App(typer.Typer):
    """The `reflectbot` app: a UserError anywhere ends in its message and exit code 2."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except UserError as exc:
            if Options.debug:
                raise
            typer.echo(f"error: {exc}", err=True)
            sys.exit(USER_ERROR)
        except BrokenPipeError:
            # The reader of a pipe stopped early (`reflectbot export rina | head`): not an error
            # of ours. Point stdout at nothing so the flush at exit does not raise again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
