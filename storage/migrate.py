"""`reflectbot init`: create or migrate the database with Alembic, on the store's own engine; and
the check every other command makes first, so that none of them creates or half-migrates one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import READ_ONLY, Store, describe, sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: every process that migrates takes the same lock.
MIGRATION_LOCK = 0x7265666C  # "refl"


class DatabaseNotReady(Exception):
    """The database is missing or not at the current revision; the message says what to run."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migrate(store: Store, revision: str = "head") -> None:
    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two upgrades at once on PostgreSQL race to create the same tables (two `init`, or
            # replicas starting together): the second waits here, then finds nothing to do.
            # On SQLite, BEGIN IMMEDIATE already serialises them.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await connection.run_sync(upgrade)


def check_exists(url: str) -> None:
    """Before a Store is built: SQLite creates a missing file on the first connection, so a
    command run in the wrong directory would quietly work on a new, empty database."""
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise DatabaseNotReady(
            f"no database at {describe(url)} (DATABASE_URL); run `reflectbot init` first, "
            "or set DATABASE_URL to the database you mean"
        )


def check_directory(url: str) -> None:
    """Before `init` builds a Store on SQLite: a directory that cannot hold the file is named
    here, rather than by a driver whose failed connection can outlive the program's loop."""
    import os

    file = sqlite_file(url)
    if file is None or file.exists():
        return
    folder = file.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseNotReady(
            f"cannot use the database {describe(url)}: {folder} is not a directory this user may write to\n"
            "  check that the file and its directory exist and that you may write to them"
        )


async def check_ready(store: Store) -> None:
    """Raise DatabaseNotReady unless the database is migrated to the current revision."""

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    reader = store.engine.execution_options(**{READ_ONLY: True})
    async with reader.connect() as connection:
        revision = await connection.run_sync(current)
    head = head_revision()
    if revision is None:
        raise DatabaseNotReady(
            f"{describe(store.url)} is not a reflectbot database yet; run `reflectbot init` first"
        )
    if revision != head:
        raise DatabaseNotReady(
            f"{describe(store.url)} is at revision {revision}, this reflectbot needs {head}; "
            "run `reflectbot init` to migrate it"
        )
