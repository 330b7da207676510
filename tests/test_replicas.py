"""Several `reflectbot tick` processes on one database, as cron on two machines would run them,
and `reflectbot serve` replicas beside a tick, over 85 participants: every prompt is sent exactly once and in order per
person, across a conversation's start, the replies taken, the next day's questions, reminders
and a resume after a pause. The processes are real and made to overlap (a file barrier, and the
overlap asserted from their own timestamps); they send to a fake Slack Web API, which records
every message as Slack would receive it.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import col, select

from bot.engine import Engine
from bot.messages import Incoming, Outgoing
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Conversation, InboundEvent, OutboxMessage, Person, Question
from tests.conftest import PROGRAMME, ROOT
from tests.fakes.slack_api import Call, FakeSlack
from tests.support import cli_environment

GENERATED = 80
# Rina's midpoint, 10:00 in Kathmandu: everyone generated like her starts at this instant.
MIDPOINT = datetime.fromisoformat("2027-03-31T04:15:00+00:00")
QUESTION = re.compile(r'"action_id": "rb:[a-z]+:(\d+)')


def programme_file(directory: Path) -> Path:
    """The fixture programme with 80 more participants like Rina (Slack, Kathmandu, hosted by
    Sahaj): 85 people, 83 of them on Slack."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    for n in range(GENERATED):
        data["participants"].append(
            dict(rina, id=f"p{n:02d}", name=f"Participant {n:02d}", language="en", slack=f"U0GEN{n:05d}")
        )
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Replicas:
    store: Store
    engine: Engine
    fake: FakeSlack
    env: dict[str, str]
    directory: Path
    slack_ids: dict[str, str]  # person id → Slack user id
    seen_posts: int = 0
    stages: list[str] = field(default_factory=list)

    async def tick_together(self, *instants: datetime) -> None:
        """One `tick` process per instant, all let go at the same moment."""
        barrier = self.directory / f"barrier-{len(self.stages)}"
        barrier.mkdir()
        self.stages.append(",".join(i.isoformat() for i in instants))
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.processes.tick_after_barrier",
                self.env["DATABASE_URL"],
                at.isoformat(),
                str(barrier),
                f"w{n}",
                str(len(instants)),
                env=self.env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n, at in enumerate(instants)
        ]
        outputs = [await w.communicate() for w in workers]
        for worker, (_out, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err.decode()[-2000:]
        spans = [tuple(map(float, err.decode().strip().splitlines()[-1].split())) for _, err in outputs]
        assert max(s for s, _ in spans) < min(e for _, e in spans), f"the ticks did not overlap: {spans}"

    async def reply(self, people: list[str], text: str) -> None:
        """Each of them writes `text` in their DM (kept in the inbox, as the Slack route does)."""
        for person in people:
            incoming = Incoming(
                "slack", self.slack_ids[person], text=text, event_id=f"{person}:{text}:{len(self.stages)}"
            )
            assert await self.engine.accept(incoming, MIDPOINT) == []

    async def asked_now(self) -> dict[str, int]:
        """Each person's question waiting for an answer."""
        async with self.store.reading() as session:
            rows = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.status == "open", col(Conversation.current_question_id).is_not(None)
                    )
                )
            ).all()
        return {c.person_id: c.current_question_id for c in rows if c.current_question_id is not None}

    def new_posts(self) -> list[Call]:
        posts = self.fake.called("chat.postMessage")
        new, self.seen_posts = posts[self.seen_posts :], len(posts)
        return new

    async def assert_exactly_once_in_order(self) -> None:
        """Every message the outbox holds went out exactly once, each person's in the order they
        were written, and nothing was left unsent; in this stage no question was put twice to
        anyone except as a reminder; each open conversation asks one question at a time."""
        async with self.store.reading() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
            questions = (await session.exec(select(Question).where(Question.status == "asked"))).all()
            open_convs = (await session.exec(select(Conversation).where(Conversation.status == "open"))).all()
        unsent = [(r.key, r.status) for r in rows if r.status in ("pending", "sending")]
        assert not unsent, f"{len(unsent)} messages left unsent, e.g. {unsent[:3]}"
        slack_rows = [
            r for r in rows if r.platform == "slack" and Outgoing.from_json(r.payload).op == "message"
        ]
        posts = self.fake.called("chat.postMessage")
        posted = Counter(f"{c.body['channel']}:{c.response['ts']}" for c in posts)
        recorded = Counter(r.platform_message_id for r in slack_rows)
        assert sum(posted.values()) == len(slack_rows), (
            f"{sum(posted.values())} messages reached Slack for {len(slack_rows)} in the outbox"
        )
        assert posted == recorded
        by_person: dict[str, list[float]] = defaultdict(list)
        for row in slack_rows:
            assert row.person_id is not None and row.platform_message_id is not None
            by_person[row.person_id].append(float(row.platform_message_id.split(":", 1)[1]))
        out_of_order = [p for p, stamps in by_person.items() if stamps != sorted(stamps)]
        assert not out_of_order, f"messages out of order for {out_of_order[:5]}"

        key_of = {r.platform_message_id: r.key for r in slack_rows}
        asked_twice: Counter[tuple[str, str]] = Counter()
        for post in self.new_posts():
            if key_of[f"{post.body['channel']}:{post.response['ts']}"].startswith("remind:"):
                continue
            ids = set(QUESTION.findall(json.dumps(post.body.get("blocks"))))
            asked_twice.update((post.body["channel"], q) for q in ids)
        repeated = [k for k, n in asked_twice.items() if n > 1]
        assert not repeated, f"{len(repeated)} questions put twice in one stage, e.g. {repeated[:3]}"
        asked_by_conv = Counter(q.conversation_id for q in questions)
        current = {c.id: c.current_question_id for c in open_convs}
        for q in questions:
            if q.conversation_id in current:
                assert current[q.conversation_id] == q.id or asked_by_conv[q.conversation_id] == 1, (
                    f"conversation {q.conversation_id} asks questions {q.id} and {current[q.conversation_id]} at once"
                )


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> Any:
    fake = FakeSlack()
    await fake.start()
    store = Store(database_url)
    await migrate(store)
    await import_programme(store, programme_file(tmp_path))
    env = cli_environment(database_url) | {
        "SLACK_BOT_TOKEN": "xoxb-17-test-token",
        "SLACK_SIGNING_SECRET": fake.signing_secret,
        "SLACK_API_URL": fake.api_url,
        "SLACK_MESSAGES_PER_SECOND": "1000",
        "SLACK_WORKSPACE_MESSAGES_PER_MINUTE": "600000",
    }
    slack_ids = {f"p{n:02d}": f"U0GEN{n:05d}" for n in range(GENERATED)} | {
        "rina": "U0RINA0001",
        "bishal": "U0BISHAL01",
        "priya": "U0PRIYA001",
    }
    try:
        yield Replicas(store, Engine(store), fake, env, tmp_path, slack_ids)
    finally:
        await store.close()
        await fake.stop()


async def answer_the_day(replicas: Replicas, people: list[str], at: datetime) -> None:
    """The people answer every question of the day, each reply taken by ticks that overlap:
    two at the same instant and one an hour later."""
    for _ in range(8):
        asked = await replicas.asked_now()
        answering = [p for p in people if p in asked]
        if not answering:
            return
        await replicas.reply(answering, "1")  # a valid answer to every kind of question
        await replicas.tick_together(at, at, at + timedelta(hours=1))
        await replicas.assert_exactly_once_in_order()
    raise AssertionError("the day's questions never ended")


async def test_overlapping_ticks_send_every_prompt_once_in_order_through_a_midpoint(
    replicas: Replicas,
) -> None:
    generated = [f"p{n:02d}" for n in range(GENERATED)]
    # The midpoint starts for 81 people: three processes at the same instant.
    await replicas.tick_together(MIDPOINT, MIDPOINT, MIDPOINT)
    await replicas.assert_exactly_once_in_order()
    started = await replicas.asked_now()
    assert set(generated) <= set(started)

    # Every reply of the first day is taken once, by whichever process gets to it.
    await answer_the_day(replicas, generated, MIDPOINT + timedelta(minutes=5))
    async with replicas.store.reading() as session:
        days = (await session.exec(select(Conversation).where(Conversation.person_id == "p00"))).one()
    assert days.next_group_at is not None
    next_day = days.next_group_at

    # The next day's questions open once: two processes at its first instant, one an hour on.
    await replicas.tick_together(next_day, next_day, next_day + timedelta(hours=1))
    await replicas.assert_exactly_once_in_order()
    assert set(generated) <= set(await replicas.asked_now())

    # Twenty stay silent; fifteen pause for three days; the rest answer the day.
    _silent, pausing, answering = generated[:20], generated[20:35], generated[35:]
    until = (next_day + timedelta(days=3)).date()
    await replicas.reply(pausing, f"pause until {until.isoformat()}")
    await replicas.tick_together(next_day + timedelta(minutes=5), next_day + timedelta(minutes=5))
    await replicas.assert_exactly_once_in_order()
    await answer_the_day(replicas, answering, next_day + timedelta(minutes=10))

    # The following working days at their first instant, three processes each: reminders for
    # the silent, the next questions for those who answered, the resume on the pause's end.
    for days in range(1, 6):
        at = next_day + timedelta(days=days)
        await replicas.tick_together(at, at, at)
        await replicas.assert_exactly_once_in_order()
    async with replicas.store.reading() as session:
        reminders = (
            await session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).startswith("remind:")))
        ).all()
    assert reminders, "the silent were reminded"
    async with replicas.store.reading() as session:
        still_paused = (
            await session.exec(select(Person.id).where(col(Person.id).in_(pausing), Person.paused == True))  # noqa: E712
        ).all()
    assert not still_paused, "the pause ended on its date"


@dataclass
class ServeReplicas:
    """`reflectbot serve` processes on the same database, their clock read from one file, each
    taking Slack's requests on a port of its own and running its own sweeps."""

    replicas: Replicas
    clock_file: Path
    processes: list[asyncio.subprocess.Process]
    urls: list[str]
    stop_file: Path

    def set_clock(self, at: datetime) -> None:
        self.clock_file.write_text(at.isoformat())

    async def reply(self, people: list[str], text: str, stage: str) -> None:
        """Each of them writes `text` in their DM; Slack delivers the events to the replicas in
        turn, as a load balancer would."""
        fake = self.replicas.fake
        for n, person in enumerate(people):
            body = fake.message_im(self.replicas.slack_ids[person], text, f"Ev{stage}{person}".upper())
            reply = await fake.send_event(self.urls[n % len(self.urls)], body)
            assert reply.status == 200, reply

    async def settle(self) -> None:
        """Until nothing waits: no reply untaken, no message unsent, and two sweeps of every
        replica later still nothing (the sweeps run every second)."""
        quiet_since: float | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while loop.time() < deadline:
            async with self.replicas.store.reading() as session:
                outbox = (
                    await session.exec(
                        select(OutboxMessage.id).where(col(OutboxMessage.status).in_(("pending", "sending")))
                    )
                ).all()
                inbox = (
                    await session.exec(select(InboundEvent.id).where(InboundEvent.status == "pending"))
                ).all()
            if outbox or inbox:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since > 2.5:
                return
            for process in self.processes:
                assert process.returncode is None, "a serve replica stopped"
            await asyncio.sleep(0.2)
        raise AssertionError("the replicas never settled")


@pytest.fixture
async def serving(replicas: Replicas) -> Any:
    clock_file = replicas.directory / "clock"
    stop_file = replicas.directory / "stop"
    env = replicas.env | {"SWEEP_INTERVAL_SECONDS": "1", "LOG_LEVEL": "WARNING"}
    processes, urls = [], []
    clock_file.write_text(MIDPOINT.isoformat())
    try:
        for n in range(2):
            port_file = replicas.directory / f"port-{n}"
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tests.processes.serve_with_clock",
                    str(clock_file),
                    str(port_file),
                    str(stop_file),
                    env=env,
                    cwd=ROOT,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
            for _ in range(600):
                if port_file.exists() and port_file.read_text():
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("a serve replica did not start")
            urls.append(f"http://127.0.0.1:{port_file.read_text()}/slack/events")
        yield ServeReplicas(replicas, clock_file, processes, urls, stop_file)
    finally:
        stop_file.touch()
        for process in processes:
            try:
                _out, err = await asyncio.wait_for(process.communicate(), 30)
            except TimeoutError:
                process.kill()
                continue
            assert process.returncode == 0, err.decode()[-2000:]


async def test_serve_replicas_beside_a_tick_send_every_prompt_once_in_order(serving: ServeReplicas) -> None:
    replicas = serving.replicas
    generated = [f"p{n:02d}" for n in range(GENERATED)]
    # The midpoint falls due while two replicas sweep every second and a tick runs beside them.
    serving.set_clock(MIDPOINT)
    await replicas.tick_together(MIDPOINT)
    await serving.settle()
    await replicas.assert_exactly_once_in_order()
    assert set(generated) <= set(await replicas.asked_now())

    # The day's replies reach the replicas over HTTP; a tick takes some of them too.
    at = MIDPOINT + timedelta(minutes=5)
    serving.set_clock(at)
    for round_ in range(8):
        asked = await replicas.asked_now()
        answering = [p for p in generated if p in asked]
        if not answering:
            break
        await serving.reply(answering, "1", f"d1r{round_}")
        await replicas.tick_together(at)
        await serving.settle()
        await replicas.assert_exactly_once_in_order()
    else:
        raise AssertionError("the day's questions never ended")
    async with replicas.store.reading() as session:
        first = (await session.exec(select(Conversation).where(Conversation.person_id == "p00"))).one()
    assert first.next_group_at is not None
    next_day = first.next_group_at

    # The next day opens once for everyone; ten pause for three days, the rest stay silent.
    serving.set_clock(next_day)
    await replicas.tick_together(next_day)
    await serving.settle()
    await replicas.assert_exactly_once_in_order()
    pausing = generated[:10]
    until = (next_day + timedelta(days=3)).date()
    serving.set_clock(next_day + timedelta(minutes=5))
    await serving.reply(pausing, f"pause until {until.isoformat()}", "pause")
    await serving.settle()  # no tick here: the replicas alone take these replies and answer them
    await replicas.assert_exactly_once_in_order()
    async with replicas.store.reading() as session:
        paused = (
            await session.exec(select(Person.id).where(col(Person.id).in_(pausing), Person.paused == True))  # noqa: E712
        ).all()
    assert sorted(paused) == pausing

    # Working days later: reminders for the silent and the resume on the pause's last day, from
    # the replicas and a tick at the same instants.
    for days in range(1, 5):
        at = next_day + timedelta(days=days)
        serving.set_clock(at)
        await replicas.tick_together(at)
        await serving.settle()
        await replicas.assert_exactly_once_in_order()
    async with replicas.store.reading() as session:
        still_paused = (
            await session.exec(select(Person.id).where(col(Person.id).in_(pausing), Person.paused == True))  # noqa: E712
        ).all()
        reminders = (
            await session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).startswith("remind:")))
        ).all()
    assert not still_paused, "the pause ended on its date"
    assert reminders, "the silent were reminded"
