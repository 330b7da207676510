"""Shared pacing: a send takes a slot in a bucket kept in the database, so that N replicas send
at the platform's rate, not N times it.

Each bucket is a GCRA (generic cell rate algorithm): a sustained `interval` between sends and a
`burst` of sends allowed at once. A reservation is one statement, INSERT … ON CONFLICT (key) DO
UPDATE … RETURNING (SQLite ≥ 3.35 and PostgreSQL alike): the row's lock (PostgreSQL) or the
write lock (SQLite) makes concurrent reservations of one bucket take turns, each seeing the one
before. Times are the database's clock (PostgreSQL `clock_timestamp()`, read after the row lock
is taken; SQLite `julianday('now')`), so replicas on machines whose clocks differ still agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import TextClause, text

from storage.db import Store

# The database's clock in seconds since the epoch, and the larger of two numbers, per dialect.
_NOW = {
    "postgresql": "CAST(extract(epoch FROM clock_timestamp()) AS DOUBLE PRECISION)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
_GREATEST = {"postgresql": "greatest", "sqlite": "max"}
_LEAST = {"postgresql": "least", "sqlite": "min"}
# Rounding down a number that is not negative (PostgreSQL's CAST to an integer rounds).
_FLOOR = {"postgresql": "CAST(floor({}) AS INTEGER)", "sqlite": "CAST({} AS INTEGER)"}


@dataclass(frozen=True)
class Bucket:
    """One pace: `burst` sends at once, then one each `interval` seconds."""

    key: str
    interval: float
    burst: int = 1

    @classmethod
    def per_second(cls, key: str, rate: float, burst: int = 1) -> Bucket:
        return cls(key, 1.0 / rate, max(1, burst))

    @property
    def tolerance(self) -> float:
        """How far ahead of now the bucket may be booked and still let a send go at once."""
        return (self.burst - 1) * self.interval


@dataclass(frozen=True)
class Slot:
    booked: bool  # False: nothing was booked; try again in `wait` seconds
    wait: float  # seconds until the (first) booked slot (0: now), or until one would be free
    # Seconds until each slot booked, the first included: several can be booked at once.
    waits: tuple[float, ...] = ()


@functools.cache
def _reserve_statement(dialect: str) -> TextClause:
    now, most, least, floor = _NOW[dialect], _GREATEST[dialect], _LEAST[dialect], _FLOOR[dialect]
    start = f"{most}(pacingbucket.tat, {now})"  # when the next slot begins, at the sustained rate
    interval = "CAST(:interval AS DOUBLE PRECISION)"
    # How far past `start` the last slot may lie and still be at most `max_wait` away.
    room = f"(CAST(:max_wait AS DOUBLE PRECISION) + CAST(:tolerance AS DOUBLE PRECISION) - ({start} - {now}))"
    fit = f"(CASE WHEN {room} < 0 THEN 0 ELSE {least}(CAST(:count AS INTEGER), {floor.format(f'{room} / {interval}')} + 1) END)"
    # `wait` keeps how far ahead `start` was, for RETURNING (which sees only the new row):
    # with `tat` it tells how many slots were booked and when each is.
    return text(
        f"""
        INSERT INTO pacingbucket (key, tat, seen, wait)
        VALUES (:key, {now} + CAST(:fresh AS DOUBLE PRECISION) * {interval}, {now}, 0)
        ON CONFLICT (key) DO UPDATE SET
            wait = {start} - {now},
            tat = {start} + {fit} * {interval},
            seen = {now}
        RETURNING wait, tat - seen
        """
    )


@functools.cache
def _hold_statement(dialect: str) -> TextClause:
    now, most = _NOW[dialect], _GREATEST[dialect]
    until = f"{now} + CAST(:seconds AS DOUBLE PRECISION)"
    return text(
        f"""
        INSERT INTO pacingbucket (key, tat, seen, wait) VALUES (:key, {until}, {now}, 0)
        ON CONFLICT (key) DO UPDATE SET tat = {most}(pacingbucket.tat, {until}), seen = {now}
        """
    )


@functools.cache
def _prune_statement(dialect: str) -> TextClause:
    return text(f"DELETE FROM pacingbucket WHERE tat < {_NOW[dialect]} - CAST(:idle AS DOUBLE PRECISION)")


async def reserve(store: Store, bucket: Bucket, max_wait: float = 0.0, count: int = 1) -> Slot:
    """Book the bucket's next slots, up to `count` of them, each at most `max_wait` seconds
    away (wait that long before each send); when the first is further, book nothing and say
    how long until one is free."""
    fresh = min(count, int((max_wait + bucket.tolerance) / bucket.interval) + 1)
    async with store.one_statement() as connection:
        result = await connection.execute(
            _reserve_statement(connection.dialect.name),
            {
                "key": bucket.key,
                "interval": bucket.interval,
                "tolerance": bucket.tolerance,
                "max_wait": max_wait,
                "count": count,
                "fresh": fresh,
            },
        )
        ahead, booked_until = (float(v) for v in result.one())
    granted = round((booked_until - ahead) / bucket.interval)
    waits = tuple(max(0.0, ahead + n * bucket.interval - bucket.tolerance) for n in range(granted))
    return Slot(booked=granted > 0, wait=waits[0] if waits else max(0.0, ahead - bucket.tolerance), waits=waits)


async def hold(store: Store, bucket: Bucket, seconds: float) -> None:
    """The platform answered 429 with Retry-After: nothing goes through this bucket, from any
    replica, for `seconds` (its burst included)."""
    async with store.one_statement() as connection:
        await connection.execute(
            _hold_statement(connection.dialect.name),
            {"key": bucket.key, "seconds": seconds + bucket.tolerance},
        )


async def prune(store: Store, idle: float = 60.0) -> int:
    """Forget buckets idle for `idle` seconds: a bucket whose time has passed is full again, the
    same as no row, so one row per DM channel ever written does not pile up."""
    async with store.one_statement() as connection:
        result = await connection.execute(_prune_statement(connection.dialect.name), {"idle": idle})
    return int(result.rowcount or 0)
