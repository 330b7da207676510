"""`/healthz` for a load balancer: the database reachable and migrated to this version's schema."""

from __future__ import annotations

import aiohttp
from sqlalchemy import text

from reflectbot.connections import listen
from reflectbot.server import build_server
from reflectbot.settings import Settings


async def test_healthz_says_whether_the_database_is_migrated_for_this_version(database_url: str) -> None:
    server = await build_server(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    runner = await listen(server.app, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 200
                assert (await response.json())["migrated"] is True
            # A newer reflectbot migrated the database past this one (a rolling upgrade).
            async with server.store.engine.begin() as connection:
                await connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
            async with session.get(url) as response:
                assert response.status == 503
                assert (await response.json()) == {"ok": False, "database": "ok", "migrated": False}
    finally:
        await runner.cleanup()
        await server.close()
