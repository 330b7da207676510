"""The database each test runs on: a new SQLite file, or, when the suite runs beside a private
PostgreSQL cluster (`scripts/with-postgres`, as `make test` does for its second run), a new
database in it, dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

# The cluster's URL (its `postgres` database), set by scripts/with-postgres.
POSTGRES = os.environ.get("REFLECTBOT_TEST_POSTGRES") or None
KIND = "postgresql" if POSTGRES else "sqlite"


def _admin(statement: str) -> None:
    """One statement on the cluster, from a thread of its own: fixtures run both inside and
    outside the tests' event loop."""
    import asyncpg

    assert POSTGRES is not None
    failure: list[BaseException] = []

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@contextmanager
def fresh_database(directory: Path, name: str = "reflectbot") -> Iterator[str]:
    """The URL of an empty database that is this caller's alone."""
    if POSTGRES is None:
        yield f"sqlite:///{directory}/{name}.db"
        return
    database = f"test_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{database}"')
    try:
        yield make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
