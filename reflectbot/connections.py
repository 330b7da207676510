"""How long a connection may take and how many one address may hold.

aiohttp waits for a request's headers as long as its keep-alive timeout (an hour by default) and
for its body as long as the handler reads it, so clients that never finish their headers hold a
connection each, without limit. `listen` serves the application with:

- the keep-alive timeout at `header_seconds`: aiohttp closes a connection whose next request has
  not fully arrived (headers) that long after it opened or after its last response (trickling
  bytes does not extend it);
- `read_body`, a middleware: the whole body within `body_seconds`, else 408 and the connection
  closed;
- at most `per_client` open connections from one address; the next is closed at once. Behind a
  reverse proxy every connection comes from the proxy, so the cap is well above what a proxy or
  Slack and Teams keep open.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

HEADER_SECONDS = 5.0
BODY_SECONDS = 10.0
PER_CLIENT = 64


def read_body(seconds: float = BODY_SECONDS) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.can_read_body:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()  # kept by aiohttp: the handler reads it again at no cost
            except TimeoutError:
                response = web.json_response({"error": "request body too slow"}, status=408)
                response.force_close()
                return response
        return await handler(request)

    return middleware


class _Cap:
    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.per_client:
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class _Capped(asyncio.Protocol):
    """aiohttp's protocol for one connection, once its address is under the cap."""

    def __init__(self, inner: asyncio.Protocol, cap: _Cap) -> None:
        self.inner, self.cap = inner, cap
        self.address: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if not self.cap.admit(address):
            transport.close()  # nothing was written: closed at once
            return
        self.address = address
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.address is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.address is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.address is None:
            return
        self.cap.release(self.address)
        self.address = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class CappedSite(web.BaseSite):
    """A TCP site whose connections go through `_Capped`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, per_client: int = PER_CLIENT) -> None:
        super().__init__(runner)
        self._host, self._port = host, port
        self._cap = _Cap(per_client)

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Capped(server(), self._cap), self._host, self._port, reuse_address=True
        )


async def listen(
    app: web.Application,
    host: str,
    port: int,
    header_seconds: float = HEADER_SECONDS,
    per_client: int = PER_CLIENT,
) -> web.AppRunner:
    """`app` served on host:port with these limits (the body's is `read_body`, in the app);
    returns the runner (its `addresses` say the port when `port` is 0)."""
    # After an answer given before the body was read (408, 413), aiohttp reads what is left for
    # up to `lingering_time` (10 s by default) so that the client sees the answer; one second.
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=header_seconds, lingering_time=1.0)
    await runner.setup()
    await CappedSite(runner, host, port, per_client).start()
    return runner
