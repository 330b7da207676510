"""Clients that never finish their request lose their connection within the timeout, one address
holds only so many connections, and a real (signed) request is answered meanwhile."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiohttp import web

from reflectbot.connections import listen
from reflectbot.server import Server, build_server
from storage.db import Store
from tests.fakes.slack_api import FakeSlack, slack_settings

HEADER_SECONDS = 1.0
BODY_SECONDS = 1.0
PER_CLIENT = 12


@dataclass
class Served:
    server: Server
    runner: web.AppRunner
    fake: FakeSlack
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"


@pytest.fixture
async def served(programme: Store, database_url: str) -> AsyncIterator[Served]:
    fake = FakeSlack()
    await fake.start()
    server = await build_server(
        slack_settings(database_url, fake),
        clock=lambda: datetime(2027, 1, 1, tzinfo=UTC),
        body_seconds=BODY_SECONDS,
    )
    runner = await listen(server.app, "127.0.0.1", 0, header_seconds=HEADER_SECONDS, per_client=PER_CLIENT)
    try:
        yield Served(server, runner, fake, runner.addresses[0][1])
    finally:
        await runner.cleanup()
        await server.close()
        await fake.stop()


async def open_partial(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


async def closed_after(reader: asyncio.StreamReader, within: float) -> float:
    """Seconds until the server closes the connection (reading all it sends first)."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        while await reader.read(4096):
            pass
    return time.monotonic() - started


async def test_partial_headers_are_closed_within_the_timeout_while_a_signed_request_is_answered(
    served: Served,
) -> None:
    slow = [
        await open_partial(served.port, b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slack-")
        for _ in range(PER_CLIENT - 2)
    ]
    started = time.monotonic()
    reply = await served.fake.send_event(served.url, served.fake.message_im("U0STRANGER", "hello"))
    assert reply.status == 200
    assert time.monotonic() - started < HEADER_SECONDS / 2  # not held up by the slow ones
    waits = await asyncio.gather(*(closed_after(reader, HEADER_SECONDS + 2) for reader, _ in slow))
    assert max(waits) <= HEADER_SECONDS + 1
    for _, writer in slow:
        writer.close()


async def test_a_body_that_never_finishes_gets_408_and_the_connection_closed(served: Served) -> None:
    body = json.dumps({"type": "event_callback"}).encode()
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body) + 100).encode() + b"\r\n\r\n"
    )
    reader, writer = await open_partial(served.port, head + body)
    answer = await asyncio.wait_for(reader.read(4096), BODY_SECONDS + 2)
    assert answer.startswith(b"HTTP/1.1 408")
    await closed_after(reader, 2)
    writer.close()


async def test_one_address_holds_only_so_many_connections(served: Served) -> None:
    held = [await open_partial(served.port, b"GET /healthz HTTP/1.1\r\n") for _ in range(PER_CLIENT)]
    refused, writer = await open_partial(served.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    # Closed at once, answered nothing.
    assert await asyncio.wait_for(refused.read(4096), 1) == b""
    writer.close()
    for _, held_writer in held:
        held_writer.close()
    await asyncio.sleep(0.1)
    # Once they are gone, the address is served again.
    reply = await served.fake.send_event(served.url, served.fake.message_im("U0STRANGER", "hello"))
    assert reply.status == 200
