"""Two real `tick` processes at a round's instant, made to overlap, on one database: one round,
one set of pairs, and one introduction each, as the fake Slack Web API received them."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import select

from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import OutboxMessage
from storage.pairing_tables import PairingRound, PairMember
from tests.conftest import ROOT
from tests.fakes.slack_api import FakeSlack, text_of
from tests.pairing_world import pairing_file, round_instant
from tests.support import cli_environment

BISHAL, NASRIN, RINA = "U0BISHAL01", "U0NASRIN01", "U0RINA0001"


async def tick_together(env: dict[str, str], directory: Path, name: str, workers: int) -> None:
    barrier = directory / name
    barrier.mkdir()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.processes.tick_after_barrier",
            env["DATABASE_URL"],
            round_instant(0).isoformat(),
            str(barrier),
            f"w{n}",
            str(workers),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(workers)
    ]
    outputs = [await p.communicate() for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
    spans = [tuple(map(float, err.decode().strip().splitlines()[-1].split())) for _, err in outputs]
    assert max(s for s, _ in spans) < min(e for _, e in spans), f"the ticks did not overlap: {spans}"


async def test_two_processes_make_one_round_and_one_introduction_each(database_url: str, tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    store = Store(database_url)
    try:
        await migrate(store)
        await import_programme(store, pairing_file(tmp_path))
        env = cli_environment(database_url) | {
            "SLACK_BOT_TOKEN": "xoxb-17-test-token",
            "SLACK_SIGNING_SECRET": fake.signing_secret,
            "SLACK_API_URL": fake.api_url,
            "SLACK_MESSAGES_PER_SECOND": "1000",
            "SLACK_WORKSPACE_MESSAGES_PER_MINUTE": "600000",
        }
        await tick_together(env, tmp_path, "barrier-0", 2)
        await tick_together(env, tmp_path, "barrier-1", 2)  # the same instant again

        async with store.reading() as session:
            rounds = (await session.exec(select(PairingRound))).all()
            members = (await session.exec(select(PairMember))).all()
            intros = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("pair-intro:")))  # type: ignore[attr-defined]
            ).all()
        assert len(rounds) == 1
        assert len(members) == len({m.person_id for m in members}) == 11  # five participants, six colleagues
        assert Counter(r.person_id for r in intros) == Counter(m.person_id for m in members)
        assert {r.status for r in intros} == {"sent"}

        group_dms = [c for c in fake.called("conversations.open") if "," in str(c.body.get("users"))]
        assert len(group_dms) == 2
        assert len(fake.posts_to(fake.mpim_of([BISHAL, NASRIN]))) == 1
        rina = [c for c in fake.posts_to(fake.dm_of(RINA)) if "Dawa Sherpa" in text_of(c)]
        assert len(rina) == 1
    finally:
        await store.close()
        await fake.stop()
