"""Database engines: the async one everything uses, and the sync URL Alembic migrates with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in drivers:
        raise ValueError(f"DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)")
    return parsed.set(drivername=drivers[backend]).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _with_driver(url, _ASYNC_DRIVERS)


def sync_url(url: str) -> str:
    return _with_driver(url, _SYNC_DRIVERS)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Several processes (serve, tick from cron, chat) share one SQLite file: WAL lets readers
    # run beside a writer, and busy_timeout waits for a lock instead of failing at once.
    # The driver's own implicit BEGIN is switched off so that `_begin_immediate` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still survives a killed process (only power loss can drop the last
    # commits), and it spares an fsync on every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes cannot wait for the write lock (SQLite
    # answers "database is locked" at once when another process wrote meanwhile); taking the
    # lock at BEGIN makes every transaction wait its turn for up to busy_timeout instead.
    # Only `Store.reading()` begins a plain (deferred) one: it never writes, and in WAL mode it
    # then holds up no writer while it reads.
    # `Store.one_statement()` begins none: its single statement is a transaction on its own.
    options = connection.get_execution_options()
    if options.get(ONE_STATEMENT):
        return
    connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")


READ_ONLY = "reflectbot_read_only"
ONE_STATEMENT = "reflectbot_one_statement"


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(async_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


class Store:
    """The database handle passed to everything that reads or writes: one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._one_statement = self.engine.execution_options(**{ONE_STATEMENT: True})
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for exactly one statement, which is its own transaction: on SQLite that
        spares the BEGIN and COMMIT round trips (the statement still waits its turn for the
        write lock). Used where a platform is waiting for our answer."""
        async with self._one_statement.begin() as connection:
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for a consistent read that writes nothing (SQLite: it takes no write lock)."""
        async with self._readers() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
