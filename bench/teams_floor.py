"""The floor for bench/teams_messages.py's inbound figures: the same load (message activities as
Teams posts them, a fixed number in flight) against a bare botbuilder CloudAdapter aiohttp app
behind `POST /api/messages`, in development mode (empty APP_ID: no authentication, as the product
runs in its bench), whose bot only stores each activity's text in SQLite in one statement (same
engine settings as reflectbot's store: WAL, busy_timeout, no BEGIN/COMMIT round trips, unique
activity id) and answers 201. Prints activities/s and p50/p99 time to the HTTP response.

Stock CloudAdapter builds a ConnectorClient and a UserTokenClient for every activity, and each
builds msrest's ClientRetryPolicy, whose constructor scans a 501-item list for 999 status codes.
reflectbot keeps those clients instead (adapters/teams/connections.py); this floor keeps stock
botbuilder but makes that list a frozenset while it runs, so the floor is botbuilder without its
one gross cost, not botbuilder at its slowest. --unpatched measures it with the list as shipped.

    PYTHONPATH=. python bench/teams_floor.py --events 2000 --in-flight 50 --rounds 1
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import SimpleNamespace

from aiohttp import web

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import load  # noqa: E402
from teams_messages import aad_object_id, fire  # noqa: E402

from tests.fakes.teams_connector import FakeTeamsConnector, TeamsUser  # noqa: E402


@contextmanager
def frozen_retry_codes() -> Iterator[None]:
    """msrest's ClientRetryPolicy.safe_codes as a frozenset, until the block ends.

    The list lives in msrest/universal_http/requests.py (msrest 0.7.1), as a class attribute:
        safe_codes = [i for i in range(500) if i != 408] + [501, 505]
    and ClientRetryPolicy.__init__ computes its status_forcelist from it with
        [i for i in range(999) if i not in self.safe_codes]
    which is about 500,000 comparisons (a few ms of CPU on the event loop) every time a
    ClientRetryPolicy is made: once per msrest Configuration, so per ConnectorClient and per
    UserTokenClient, which CloudAdapter makes afresh for each activity. As a frozenset each `in`
    is one hash lookup and the resulting status_forcelist is the same. (status_forcelist itself
    stays a list: urllib3 scans it only when a response to an outbound call comes back, and this
    floor makes no outbound call.) Patched in this script only, never in product code, and
    restored afterwards so that bench/inbound.py then measures the product against msrest as
    shipped.
    """
    from msrest.universal_http.requests import ClientRetryPolicy

    shipped = ClientRetryPolicy.safe_codes
    ClientRetryPolicy.safe_codes = frozenset(shipped)  # type: ignore[assignment]
    try:
        yield
    finally:
        ClientRetryPolicy.safe_codes = shipped


async def main(events: int, in_flight: int, people: int, patched: bool = True) -> load.Result:
    # Patched before the adapter is made and the app starts, and for the whole run.
    with frozen_retry_codes() if patched else nullcontext():
        return await _run(events, in_flight, people, patched)


async def _run(events: int, in_flight: int, people: int, patched: bool) -> load.Result:
    from botbuilder.core import Bot, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
    from botbuilder.schema import ActivityTypes
    from sqlalchemy import text

    from storage.db import ONE_STATEMENT, create_engine

    directory = Path(tempfile.mkdtemp(prefix="reflectbot-floor-"))
    database = create_engine(f"sqlite:///{directory}/floor.db")
    async with database.begin() as conn:
        await conn.execute(
            text("CREATE TABLE reply (id INTEGER PRIMARY KEY, activity_id TEXT UNIQUE, user TEXT, body TEXT)")
        )
    # As reflectbot keeps a reply: one statement, its own transaction.
    inserts = database.execution_options(**{ONE_STATEMENT: True})

    class StoreText(Bot):
        async def on_turn(self, context: TurnContext) -> None:
            activity = context.activity
            if activity.type != ActivityTypes.message:
                return
            async with inserts.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO reply (activity_id, user, body) VALUES (:a, :u, :t) ON CONFLICT DO NOTHING"
                    ),
                    {"a": activity.id, "u": activity.from_property.aad_object_id, "t": activity.text},
                )

    # Development mode, as the product's bench runs: no APP_ID, so no token is asked for or checked.
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = StoreText()

    async def handle(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        assert response is not None  # a POST always gets one (201 for a message)
        return response

    # The activities name a fake connector as their serviceUrl, so that anything botbuilder might
    # send stays on 127.0.0.1 (and is counted: a floor that only stores should send nothing).
    fake = FakeTeamsConnector()
    await fake.start()
    clients = [TeamsUser("", fake.service_url, aad_object_id(n), "Bench") for n in range(people)]
    web_app = web.Application()
    web_app.router.add_post("/api/messages", handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    try:
        seconds, latencies, failures = await fire(endpoint, clients, events, in_flight)
    finally:
        await runner.cleanup()
        await fake.stop()
    async with database.connect() as conn:
        stored = (await conn.execute(text("SELECT count(*) FROM reply"))).scalar_one()
    await database.dispose()
    result = load.result(events, seconds, latencies, failures)
    name = "floor: bare CloudAdapter + SQLite insert (one statement)" + (
        ", msrest retry codes a frozenset" if patched else ", msrest as shipped"
    )
    print(
        f"{name}: {events} activities in {seconds:.2f} s = {result.per_second:.0f} activities/s; "
        f"time to response p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms; non-201: {failures}"
    )
    print(f"  stored activities: {stored}; connector calls: {len(fake.requests)}")
    return result


if __name__ == "__main__":
    parser = load.arguments(__doc__)
    parser.add_argument(
        "--unpatched", action="store_true", help="leave msrest's retry codes a list, as shipped"
    )
    args = parser.parse_args()
    load.rounds(lambda: main(args.events, args.in_flight, args.people, not args.unpatched), args.rounds)
