"""The migrations create exactly the tables the models describe, so `reflectbot init` is enough."""

from __future__ import annotations

from alembic import command
from sqlalchemy.engine import Connection

from storage.db import Store
from storage.migrate import alembic_config


async def test_migrations_match_the_models(store: Store) -> None:
    def check(connection: Connection) -> None:
        command.check(alembic_config(connection))  # raises when autogenerate would add anything

    async with store.engine.begin() as connection:
        await connection.run_sync(check)
