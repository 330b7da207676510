"""reflectbot's fan-out under Slack's limits: a generated programme's midpoint falls due for
everyone at once (as bench/scale.py generates it, everyone on Slack), and the prompts are sent by
1 and then 3 replicas (real processes on one database) through a fake Slack that enforces
chat.postMessage's limits: a burst of 3 then one a second per channel, and `--workspace-limit`
posts in any minute for the workspace, answering 429 with Retry-After over either.

    PYTHONPATH=. .venv/bin/python bench/fanout.py --participants 10000 --workspace-limit 3000 \
        [--replicas 1 3] [--database-url URL]

With 10,000 distinct DM channels the workspace's limit binds: the ideal wall time is the
messages at that sustained rate (messages / (limit / 60)). The replicas pace themselves at
`--pace` of the limit (SLACK_WORKSPACE_MESSAGES_PER_MINUTE), a little under it, as a deployment
should. Printed per run: wall time against the ideal (goal ≤ 1.05×), the share of calls
answered 429 (goal ≤ 1 %), messages lost and duplicated (goal 0 each), and the replicas' CPU
per message sent (goal ≤ 3 ms; their CPU after start-up, the fake's not included). Between
runs the outbox, the Slack DM channels stored with each identity and the pacing buckets are
reset, so that each run does the same work (opening every DM first, as a real first fan-out).

Measured (2-core machine, nothing else running; PostgreSQL 15; workspace limit 3,000/min, paced
at 98 %), 5,000 participants, whose midpoint queues 10,000 prompts (ideal 200 s), every DM
opened on the way:

    1 replica:  10,000 posted in 204.8 s (1.024×); 429s 0 of 10,000 calls; lost 0; duplicated 0;
                2.8 ms CPU per message; peak RSS at most 137 MB
    3 replicas: 10,000 posted in 204.8 s (1.024×); 429s 0 of 10,000 calls; lost 0; duplicated 0;
                2.9 ms CPU per message (3,400 / 3,400 / 3,200 sent)

and 1,000 participants (2,000 prompts, ideal 40 s): 1 replica 41.1 s (1.026×), 3 replicas 41.1 s
(1.027×), no 429, nothing lost or doubled, 2.7 and 3.3 ms CPU per message (three replicas
each with a third of the work spend more of it in their loop), 108 MB peak RSS each. With
`--dms-known` a later fan-out costs about 0.4 ms less a message than the first.

Before the send path was reworked (SQLite, same machine) a message cost about 10 statements and
19–27 ms of CPU, and one replica took 3.9× the ideal at 10,000. Now a message costs about one
and a half statements at a first fan-out (a share of the channel's slot, marking it sent;
storing the DM channel opened), a little more than one once DMs are known: a batch is claimed in
one statement and the order checked in one more, the workspace's slots are booked a quarter of
a second at a time and a person's channel slots for all their messages in the batch at once,
outcomes of lanes side by side are written together. The CPU per message counted here includes
each replica's loop between drains (it counts what is left every 0.1 s); what remains is mostly
SQLAlchemy's own work per statement (about 1 ms of CPU each through the async engine) and
aiohttp's per call. (Until charts and spreadsheets were imported only when made, a replica also
spent CPU collecting the garbage of matplotlib's objects: 3.3 ms a message then.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]

from scale import END, MIDPOINT, START, run_cli  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.delivery import Deliverer  # noqa: E402
from bot.engine import Engine  # noqa: E402
from scheduler.sweeps import Snapshot, Sweeps  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.drain_replicas import drain_together  # noqa: E402
from tests.fakes.slack_api import FakeSlack, SlackLimits  # noqa: E402


def programme(participants: int, directory: Path) -> Path:
    """The sample programme with `participants` people like Rina, each on Slack."""
    data = yaml.safe_load((ROOT / "examples" / "programme.yaml").read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    data["participants"] = [
        dict(
            rina,
            id=f"p{n:05d}",
            name=f"Participant {n:05d}",
            language="en",
            slack=f"U0F{n:07d}",
            start=START,
            end=END,
        )
        for n in range(participants)
    ]
    for panel in data.get("panels", []):
        panel["presenters"] = []
    data.pop("colleagues", None)
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def queue_midpoint(url: str) -> int:
    """Everyone's midpoint started and its prompts queued (the sweep without its drain)."""
    store = Store(url)
    try:
        sweeper = Sweeps(Engine(store), Deliverer(store, {}))
        async with store.reading() as session:
            snap = await Snapshot.load(session, MIDPOINT)
        await sweeper.start_due(MIDPOINT, snap)
        return await count(store, "SELECT count(*) FROM outboxmessage")
    finally:
        await store.close()


async def count(store: Store, query: str) -> int:
    async with store.reading() as session:
        return int((await session.exec(text(query))).one()[0])  # type: ignore[call-overload]


async def reset(url: str, keep_dms: bool = False) -> None:
    """As before the first run: every message pending, no pacing kept, and (unless `keep_dms`)
    no DM channel known."""
    store = Store(url)
    try:
        async with store.session() as session:
            for statement in (
                "UPDATE outboxmessage SET status = 'pending', attempts = 0, claimed_by = NULL, "
                "claimed_at = NULL, sent_at = NULL, platform = NULL, platform_message_id = NULL, "
                "last_error = NULL",
                "SELECT 1" if keep_dms else "UPDATE chatidentity SET reference = NULL",
                "DELETE FROM pacingbucket",
            ):
                await session.exec(text(statement))  # type: ignore[call-overload]
    finally:
        await store.close()


async def run(url: str, env: dict[str, str], directory: Path, replicas: int, limit: int, messages: int) -> None:
    fake = FakeSlack(limits=SlackLimits(channel_burst=3, channel_per_second=1.0, workspace_per_minute=limit))
    await fake.start()
    try:
        env = env | {"SLACK_SIGNING_SECRET": fake.signing_secret, "SLACK_API_URL": fake.api_url}
        reports = await drain_together(env, directory, MIDPOINT, replicas)
    finally:
        await fake.stop()
    store = Store(url)
    try:
        sent_rows = await count(store, "SELECT count(*) FROM outboxmessage WHERE status = 'sent'")
    finally:
        await store.close()
    posts = [c for c in fake.called("chat.postMessage") if c.response.get("ok")]
    delivered = Counter((c.body["channel"], c.body.get("text")) for c in posts)
    wall = max(r.end for r in reports) - min(r.start for r in reports)
    ideal = messages / (limit / 60.0)
    refused = sum(fake.ratelimited.values())
    cpu = sum(r.cpu for r in reports)
    print(
        f"{replicas} replica{'s' if replicas > 1 else ''}: {len(posts)} posted in {wall:.1f} s wall, "
        f"ideal {ideal:.1f} s ({wall / ideal:.3f}×); 429s {refused} of {fake.post_calls} calls "
        f"({100 * refused / max(fake.post_calls, 1):.2f} %, {dict(fake.ratelimited)}); "
        f"lost {messages - sent_rows}; duplicated {len(posts) - len(delivered)} "
        f"(posts {len(posts)} for {sent_rows} sent); "
        f"CPU {1000 * cpu / max(len(posts), 1):.2f} ms per message "
        f"(sent per replica: {[r.sent for r in reports]}); "
        f"peak RSS per replica {[round(r.peak_mb) for r in reports]} MB",
        flush=True,
    )


async def main(args: argparse.Namespace, directory: Path) -> None:
    url = args.database_url or f"sqlite:///{directory / 'fanout.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_"))}
    env |= {"DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    run_cli(env, "init")
    path = programme(args.participants, directory)
    run_cli(env, "import", str(path))
    messages = await queue_midpoint(url)
    print(
        f"{args.participants} participants on {url.split(':')[0]}, {messages} prompts due; "
        f"workspace limit {args.workspace_limit}/min, paced at {args.pace:.0%}",
        flush=True,
    )
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-bench-token",
        "SLACK_WORKSPACE_MESSAGES_PER_MINUTE": str(args.workspace_limit * args.pace),
    }
    for n, replicas in enumerate(args.replicas):
        if n:
            await reset(url, args.dms_known)
        await run(url, env, directory, replicas, args.workspace_limit, messages)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--workspace-limit", type=int, default=3000, help="posts a minute the fake allows")
    parser.add_argument("--pace", type=float, default=0.98, help="our pace, as a share of the limit")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument(
        "--dms-known",
        action="store_true",
        help="runs after the first keep the DM channels it opened (a later fan-out, not the first)",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(arguments, Path(tmp)))
