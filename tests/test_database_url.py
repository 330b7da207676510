"""DATABASE_URL as people write it: what hosting providers print, libpq's TLS settings, and a
clear refusal of what reflectbot cannot connect to. Then two `init` at once on one database."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import DatabaseUrlError, engine_arguments
from tests.support import cli_environment


@pytest.mark.parametrize(
    "written",
    [
        "postgres://ana:s3cret@db.example.org:5433/reflect",
        "postgresql://ana:s3cret@db.example.org:5433/reflect",
        "postgresql+asyncpg://ana:s3cret@db.example.org:5433/reflect",
    ],
)
def test_every_common_way_of_writing_a_postgresql_url_connects_with_asyncpg(written: str) -> None:
    address, connect_args = engine_arguments(written)
    assert address == "postgresql+asyncpg://ana:s3cret@db.example.org:5433/reflect"
    assert connect_args == {}


def test_libpq_sslmode_becomes_asyncpgs_ssl_argument() -> None:
    address, connect_args = engine_arguments("postgres://ana@db.example.org/reflect?sslmode=require")
    assert address == "postgresql+asyncpg://ana@db.example.org/reflect"
    assert connect_args == {"ssl": "require"}


def test_a_root_certificate_verifies_the_server(tmp_path: Path) -> None:
    # Any CA certificate will do to build the context; the system's bundle is one.
    bundle = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    address, connect_args = engine_arguments(
        f"postgresql://ana@db.example.org/reflect?sslmode=verify-ca&sslrootcert={bundle}&application_name=rb"
    )
    assert address == "postgresql+asyncpg://ana@db.example.org/reflect?application_name=rb"
    context = connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("mysql://ana@db.example.org/reflect", "'mysql'"),
        ("postgresql+psycopg://ana@db.example.org/reflect", "'psycopg'"),
        ("postgres://ana@db.example.org/reflect?sslmode=sometimes", "sslmode=sometimes"),
        ("reflectbot.db", "not a database URL"),
    ],
)
def test_what_reflectbot_cannot_connect_to_is_refused_naming_the_part(written: str, named: str) -> None:
    with pytest.raises(DatabaseUrlError, match="DATABASE_URL") as refused:
        engine_arguments(written)
    assert named in str(refused.value)


def test_sqlite_urls_keep_their_path() -> None:
    assert engine_arguments("sqlite:////var/lib/reflectbot/reflectbot.db") == (
        "sqlite+aiosqlite:////var/lib/reflectbot/reflectbot.db",
        {},
    )


def test_two_inits_at_once_on_one_new_database_both_succeed(tmp_path: Path, database_url: str) -> None:
    """Replicas started together (or two `init`s) migrate one empty database at the same moment:
    on PostgreSQL the second waits for the first's migration lock instead of failing."""
    env = cli_environment(database_url)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "reflectbot.cli", "init"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    for code, _out, err in results:
        assert code == 0, err
    # Both left one migrated database behind: a third init finds nothing to do.
    again = subprocess.run(
        [sys.executable, "-m", "reflectbot.cli", "init"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
