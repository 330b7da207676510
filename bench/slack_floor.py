"""The floor for bench/slack_events.py: the same load against a bare slack-bolt AsyncApp that only
stores each DM's text in SQLite (same engine settings as reflectbot's store: WAL, busy_timeout,
BEGIN IMMEDIATE, one transaction per event, unique event id), behind the same aiohttp converters.
With --one-statement each insert is its own transaction, without the BEGIN and COMMIT round
trips, as reflectbot keeps a reply in its inbox.

    PYTHONPATH=. python bench/slack_floor.py --events 2000 --in-flight 50 --rounds 3
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import load  # noqa: E402
from slack_events import SECRET, fire, report, serve, with_fake_slack  # noqa: E402

from tests.fakes.slack_api import FakeSlack  # noqa: E402


async def main(events: int, in_flight: int, people: int, one_statement: bool = False) -> load.Result:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import text

    from storage.db import ONE_STATEMENT, create_engine

    directory = Path(tempfile.mkdtemp(prefix="reflectbot-floor-"))
    database = create_engine(f"sqlite:///{directory}/floor.db")
    async with database.begin() as conn:
        await conn.execute(
            text("CREATE TABLE reply (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, user TEXT, body TEXT)")
        )
    users = [f"U0BENCH{n:04d}" for n in range(people)]
    results: list[load.Result] = []
    # As reflectbot keeps a reply (one statement, its own transaction), or in a transaction.
    inserts = database.execution_options(**{ONE_STATEMENT: True}) if one_statement else database

    async def run(fake: FakeSlack) -> None:
        app = AsyncApp(
            client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )

        @app.event("message")
        async def store_text(body: dict[str, Any]) -> None:
            event = body["event"]
            async with inserts.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO reply (event_id, user, body) VALUES (:e, :u, :t) ON CONFLICT DO NOTHING"
                    ),
                    {"e": body["event_id"], "u": event["user"], "t": event["text"]},
                )

        async def handle(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

        web_app = web.Application()
        web_app.router.add_post("/slack/events", handle)
        runner, url = await serve(web_app)
        try:
            seconds, latencies, failures = await fire(url, users, events, in_flight)
        finally:
            await runner.cleanup()
        async with database.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM reply"))).scalar_one()
        await database.dispose()
        name = "floor: bare slack-bolt + SQLite insert" + (" (one statement)" if one_statement else "")
        results.append(report(name, events, seconds, latencies, failures))
        print(f"  stored events: {stored}")

    await with_fake_slack(run)
    return results[0]


if __name__ == "__main__":
    parser = load.arguments(__doc__)
    parser.add_argument(
        "--one-statement",
        action="store_true",
        help="insert without BEGIN/COMMIT round trips, as reflectbot keeps a reply",
    )
    args = parser.parse_args()
    load.rounds(lambda: main(args.events, args.in_flight, args.people, args.one_statement), args.rounds)
