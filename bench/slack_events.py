"""How fast `reflectbot serve` takes Slack DM replies: signed `message.im` events fired at
/slack/events with a fixed number in flight; prints events/s and p50/p99 time to the HTTP response.

The real server (`reflectbot.server.build_server`: SQLite, engine, outbox, the Slack adapter on
slack-bolt, and the loop that takes replies and drains the outbox to a fake Slack Web API) runs in
this process on 127.0.0.1. Each reply is kept in the inbox before its response, as in production;
the loop takes them between requests. After the last response the script also waits until every
reply is taken and its next prompt sent, and prints that time: the work deferred is shown, not
hidden. Compare with bench/slack_floor.py (a bare slack-bolt app that only stores the text).

    PYTHONPATH=. python bench/slack_events.py --events 2000 --in-flight 50 --rounds 3
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load

from tests.fakes.slack_api import FakeSlack, sign

SECRET = "bench-signing-secret"
PROGRAMME = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "programme.yaml"


def message_event(user: str, text: str) -> bytes:
    ts = f"{time.time():.6f}"
    return json.dumps(
        {
            "token": "bench",
            "team_id": "T0TEAM0001",
            "api_app_id": "A0APP00001",
            "event": {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
                "channel": "D" + user[1:],
                "channel_type": "im",
                "client_msg_id": str(uuid.uuid4()),
            },
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:12].upper(),
            "event_time": int(time.time()),
        }
    ).encode()


async def fire(url: str, users: list[str], events: int, in_flight: int) -> tuple[float, list[float], int]:
    """POST `events` signed DM replies, `in_flight` at a time; (seconds, latencies, failures)."""

    async def post(session: aiohttp.ClientSession, n: int) -> bool:
        body = message_event(users[n % len(users)], f"Reply number {n}: what I saw today.")
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(SECRET, body, stamp),
        }
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status == 200

    return await load.fire(events, in_flight, post)


def report(
    name: str,
    events: int,
    seconds: float,
    latencies: list[float],
    failures: int,
    settled: float | None = None,
    unsettled: int = 0,
) -> load.Result:
    result = load.result(events, seconds, latencies, failures, settled, unsettled)
    print(
        f"{name}: {events} events in {seconds:.2f} s = {result.per_second:.0f} events/s; "
        f"time to response p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms; non-200: {failures}"
    )
    return result


def programme_file(directory: Path, people: int) -> tuple[Path, list[str]]:
    """The fixture programme with `people` more Slack participants like Rina."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    template = next(p for p in data["participants"] if p["id"] == "rina")
    users = []
    for n in range(people):
        user = f"U0BENCH{n:04d}"
        data["participants"].append(
            dict(template, id=f"bench{n}", name=f"Bench {n}", slack=user, language="en")
        )
        users.append(user)
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path, users


async def with_fake_slack(run: Callable[[FakeSlack], Awaitable[None]]) -> None:
    fake = FakeSlack(signing_secret=SECRET)
    await fake.start()
    try:
        await run(fake)
    finally:
        await fake.stop()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/slack/events"


async def main(events: int, in_flight: int, people: int, drain: bool = True) -> load.Result:
    from sqlmodel import select

    from bot.plan import plan_for
    from reflectbot.server import build_server
    from reflectbot.settings import Settings
    from storage.db import Store
    from storage.importer import import_programme
    from storage.migrate import migrate
    from storage.models import Person

    directory = Path(tempfile.mkdtemp(prefix="reflectbot-bench-"))
    database_url = f"sqlite:///{directory}/bench.db"
    path, users = programme_file(directory, people)
    store = Store(database_url)
    await migrate(store)
    await import_programme(store, path)
    await store.close()

    results: list[load.Result] = []

    async def run(fake: FakeSlack) -> None:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
            log_level="WARNING",
        )
        server = await build_server(settings, clock=lambda: datetime.now(UTC))
        # Everyone is in their midpoint reflection, so each reply answers a question.
        now = datetime.now(UTC)
        async with server.store.session() as session:
            people_ = (await session.exec(select(Person).where(Person.id.startswith("bench")))).all()  # type: ignore[attr-defined]
            plans = [
                (p.id, next(x for x in await plan_for(session, p) if x.flow == "midpoint")) for p in people_
            ]
        for person_id, planned in plans:
            await server.engine.start(person_id, planned, now)
        await server.deliverer.drain(now)
        runner, url = await serve(server.app)
        if drain:
            await server.start()
            # The sweep every server runs as it starts is over before the load begins.
            await asyncio.sleep(1)
        try:
            seconds, latencies, failures = await fire(url, users, events, in_flight)
            during = await load.counts(server.store)
            backlog, left = await load.settle(server.store) if drain else (0.0, 0)
        finally:
            if drain:
                await server.stop()
            await runner.cleanup()
        after = await load.counts(server.store)
        await server.close()
        result = report(
            "reflectbot serve (Slack)", events, seconds, latencies, failures, backlog if drain else None, left
        )
        results.append(result)
        print(
            f"  replies kept: {after['kept']}; waiting to be taken when the last response went out: "
            f"{during['waiting']}"
        )
        if drain:
            print(
                f"  {load.settled(left)} {backlog:.1f} s after the last response "
                f"({result.end_to_end:.0f} replies/s end to end); set aside as failed: "
                f"{after['failed']}; outbox still pending: {after['outbox']}"
            )

    await with_fake_slack(run)
    return results[0]


if __name__ == "__main__":
    parser = load.arguments(__doc__)
    parser.add_argument(
        "--no-drain", action="store_true", help="do not run the server's loop (replies kept, not taken)"
    )
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    load.rounds(lambda: main(args.events, args.in_flight, args.people, drain=not args.no_drain), args.rounds)
