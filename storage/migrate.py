"""`reflectbot init`: create or migrate the database with Alembic, on the store's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Store

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: every process that migrates takes the same lock.
MIGRATION_LOCK = 0x7265666C  # "refl"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


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
