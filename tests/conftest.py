from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from tests.databases import fresh_database
from tests.support import RecordingSender
from tests.transcript import Transcript

FIXTURES = Path(__file__).parent / "fixtures"
PROGRAMME = FIXTURES / "programme.yaml"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must not see a developer's .env or platform credentials.
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "WEB_")) or name in ("DATABASE_URL", "HOST", "PORT"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    await migrate(store)
    yield store
    await store.close()


@pytest.fixture
async def programme(store: Store) -> Store:
    await import_programme(store, PROGRAMME)
    return store


@pytest.fixture
def translator() -> Translator:
    return Translator()


@pytest.fixture
def engine(programme: Store, translator: Translator) -> Engine:
    return Engine(programme, translator)


@pytest.fixture
def transcript(engine: Engine) -> Transcript:
    sender = RecordingSender()
    return Transcript(
        engine,
        Deliverer(engine.store, {"console": sender}),
        sender,
        datetime.fromisoformat("2027-03-31T04:15:00+00:00"),
    )


async def table_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for checking that something changed nothing."""
    metadata = MetaData()
    async with store.engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        rows = {}
        for table in metadata.sorted_tables:
            result = await conn.execute(select(table))
            rows[table.name] = sorted(tuple(map(repr, r)) for r in result.all())
    return rows


def copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(ROOT / "bot" / "locales", target)
    return target
