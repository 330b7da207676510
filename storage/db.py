"""Database engines: the async one everything uses, and the sync URL Alembic migrates with."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
# What hosting providers print ("postgres://") is PostgreSQL too.
_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
# The drivers we connect with; naming one of them (or none) in DATABASE_URL is the same.
_OUR_DRIVERS = {"sqlite": {"", "aiosqlite", "pysqlite"}, "postgresql": {"", "asyncpg"}}
# libpq's sslmode values, as asyncpg takes them (`ssl=`).
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class DatabaseUrlError(ValueError):
    """DATABASE_URL names something reflectbot cannot connect to; the message says what to write."""


def _parse(url: str) -> tuple[URL, str]:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "DATABASE_URL is not a database URL; write sqlite:///path/to/reflectbot.db or "
            "postgresql://user:password@host/dbname"
        ) from None
    name, _, driver = parsed.drivername.partition("+")
    backend = _BACKENDS.get(name)
    if backend is None:
        raise DatabaseUrlError(
            f"DATABASE_URL: unsupported database {name!r}; use sqlite:///… or postgresql://…"
        )
    if driver not in _OUR_DRIVERS[backend]:
        raise DatabaseUrlError(
            f"DATABASE_URL: reflectbot connects to {backend} with its own driver, not {driver!r}; "
            f"write {backend}://… without +{driver}"
        )
    return parsed, backend


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite DATABASE_URL names (None for PostgreSQL or an in-memory database)."""
    parsed, backend = _parse(url)
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe(url: str) -> str:
    """Which database a URL names, as an operator recognises it: the absolute path of a SQLite
    file (a relative one depends on where the command runs), else the URL without its password."""
    file = sqlite_file(url)
    if file is not None:
        return str(file.resolve())
    return _parse(url)[0].render_as_string(hide_password=True)


def engine_arguments(url: str) -> tuple[str, dict[str, Any]]:
    """The async URL and the driver's connect arguments for DATABASE_URL.

    asyncpg knows no libpq `sslmode`/`sslrootcert` (SQLAlchemy passes URL query parameters to it
    as keywords): they become its `ssl` argument.
    """
    parsed, backend = _parse(url)
    parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        query = dict(parsed.query)
        mode = query.pop("sslmode", None)
        root = query.pop("sslrootcert", None)
        if isinstance(mode, tuple) or isinstance(root, tuple):
            raise DatabaseUrlError("DATABASE_URL: give sslmode and sslrootcert once each")
        if mode is not None and mode not in _SSL_MODES:
            raise DatabaseUrlError(
                f"DATABASE_URL: sslmode={mode} is not one of {', '.join(sorted(_SSL_MODES))}"
            )
        if root is not None:
            context = ssl.create_default_context(cafile=root)
            # verify-ca checks the certificate chain only; verify-full (the default once a
            # root certificate is given) the host name too.
            context.check_hostname = mode in (None, "verify-full")
            connect_args["ssl"] = context
        elif mode is not None:
            connect_args["ssl"] = mode
        parsed = parsed.set(query=query)
    return parsed.render_as_string(hide_password=False), connect_args


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
    address, connect_args = engine_arguments(url)
    engine = create_async_engine(address, connect_args=connect_args)
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
        # The connection `one_statement()` uses in this task while `pinned()` holds one.
        self._pinned: ContextVar[AsyncConnection | None] = ContextVar(f"pinned-{id(self)}", default=None)

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[None]:
        """Within it, this task's `one_statement()` calls all use one connection, taken from the
        pool once: taking and giving back a connection costs more CPU than a short statement
        (about 0.6 ms against 0.3 on SQLite), and a sender makes several a message. Outside
        a statement it holds no transaction, so it holds up no other writer."""
        if self._pinned.get() is not None:
            yield
            return
        async with self._one_statement.connect() as connection:
            token = self._pinned.set(connection)
            try:
                yield
            finally:
                self._pinned.reset(token)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for exactly one statement, which is its own transaction: on SQLite that
        spares the BEGIN and COMMIT round trips (the statement still waits its turn for the
        write lock). Used where a platform is waiting for our answer, and for each send."""
        connection = self._pinned.get()
        if connection is None:
            async with self._one_statement.begin() as connection:
                yield connection
            return
        async with connection.begin():
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for a consistent read that writes nothing (SQLite: it takes no write lock)."""
        async with self._readers() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
