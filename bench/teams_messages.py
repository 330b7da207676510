"""How fast `reflectbot serve` takes Teams replies and sends Teams prompts.

1. Inbound: message activities (as Teams posts them) fired at /api/messages with a fixed number in
   flight; prints activities/s and p50/p99 time to the HTTP response. Each reply is stored (and
   the person's conversation reference refreshed) before the response, as in production; the drain
   loop sends the next prompts to a fake Bot Framework connector meanwhile. After the last
   response it waits until every reply is taken and its next prompt sent, and prints that time
   and the rate end to end, as bench/slack_events.py does.
2. Outbound: the first midpoint prompts of PEOPLE participants without a stored reference, drained
   at once: each needs create_conversation and then the card; prints cards/s.

The real server (`reflectbot.server.build_server`: SQLite, engine, outbox, the Teams adapter on
botbuilder's CloudAdapter in development mode) runs in this process on 127.0.0.1. Compare the
inbound figures with bench/teams_floor.py (a bare CloudAdapter app that only stores the text).

    PYTHONPATH=. python bench/teams_messages.py --events 2000 --in-flight 50 --people 200
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load

from tests.fakes.teams_connector import FakeTeamsConnector, TeamsUser

PROGRAMME = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "programme.yaml"


def aad_object_id(n: int) -> str:
    """Bench participant number n's Entra (AAD) object id."""
    return f"00000000-0000-4000-8000-{n:012d}"


def programme_file(directory: Path, people: int) -> tuple[Path, list[str]]:
    """The fixture programme with `people` more Teams participants like Tanvir."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    template = next(p for p in data["participants"] if p["id"] == "tanvir")
    users = []
    for n in range(people):
        aad = aad_object_id(n)
        data["participants"].append(dict(template, id=f"bench{n}", name=f"Bench {n}", teams=aad))
        users.append(aad)
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path, users


async def fire(
    endpoint: str, clients: list[TeamsUser], events: int, in_flight: int
) -> tuple[float, list[float], int]:
    async def post(session: aiohttp.ClientSession, n: int) -> bool:
        client = clients[n % len(clients)]
        activity = client.activity("message_text", text=f"Reply number {n}: what I saw today.")
        async with session.post(endpoint, json=activity) as response:
            await response.read()
            return response.status == 201

    return await load.fire(events, in_flight, post)


async def main(events: int, in_flight: int, people: int) -> load.Result:
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

    fake = FakeTeamsConnector()
    await fake.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        teams_enabled=True,
        teams_service_url=fake.service_url,
        log_level="WARNING",
    )
    server = await build_server(settings, clock=lambda: datetime.now(UTC))

    # Outbound: everyone's midpoint starts now; no one has a reference yet.
    now = datetime.now(UTC)
    async with server.store.session() as session:
        bench = (await session.exec(select(Person).where(Person.id.startswith("bench")))).all()  # type: ignore[attr-defined]
        plans = [(p.id, next(x for x in await plan_for(session, p) if x.flow == "midpoint")) for p in bench]
    for person_id, planned in plans:
        await server.engine.start(person_id, planned, now)
    began = time.perf_counter()
    result = await server.deliverer.drain(now)
    seconds = time.perf_counter() - began
    print(
        f"outbound: {result.sent} messages ({len(fake.cards())} cards, {len(fake.creates())} conversations "
        f"created) in {seconds:.2f} s = {result.sent / seconds:.0f} messages/s; "
        f"retried {result.retried}, failed {result.failed}"
    )

    # Inbound: replies from everyone, in their conversations as created above.
    clients = []
    for aad in users:
        client = TeamsUser("", fake.service_url, aad, "Bench")
        [client.conversation_id] = fake.conversations_with(aad)
        clients.append(client)
    runner = web.AppRunner(server.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    await server.start()
    before: Any = len(fake.requests)
    try:
        seconds, latencies, failures = await fire(endpoint, clients, events, in_flight)
        during = await load.counts(server.store)
        calls = len(fake.requests) - before
        backlog, left = await load.settle(server.store)
    finally:
        await server.stop()
        await runner.cleanup()
    after = await load.counts(server.store)
    await server.close()
    await fake.stop()
    inbound = load.result(events, seconds, latencies, failures, backlog, left)
    print(
        f"inbound: {events} activities in {seconds:.2f} s = {inbound.per_second:.0f} activities/s; "
        f"time to response p50 {inbound.p50:.1f} ms, p99 {inbound.p99:.1f} ms; non-201: {failures}"
    )
    print(
        f"  stored events: {after['kept']}; outbox pending at the last response: {during['outbox']}; "
        f"connector calls meanwhile: {calls}"
    )
    print(
        f"  {load.settled(left)} {backlog:.1f} s after the last response "
        f"({inbound.end_to_end:.0f} replies/s end to end); set aside as failed: {after['failed']}; "
        f"outbox still pending: {after['outbox']}"
    )
    return inbound


if __name__ == "__main__":
    args = load.arguments(__doc__).parse_args()
    load.rounds(lambda: main(args.events, args.in_flight, args.people), args.rounds)
