"""Reports over a large store: a coordinator's digest and the programme's outcome report when
1,000,000 answers are stored (10,000 participants in 100 partnerships, 100 answers each).

    .venv/bin/python bench/reports_scale.py [--participants 10000] [--database-url URL]

The programme is imported as a real `reflectbot import`; the conversations, questions and answers
are then written in bulk (as if the year had been lived: a welcome, a midpoint, a final reflection
and two follow-ups each), so the bench measures reading them, not the conversations. Each report is
built five times and the median wall time printed, after one warm-up. Figures are for our reading
(the issue notes), not enforced by tests: a shared machine's timings vary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import run_cli  # noqa: E402
from bot.reports.digest import build_digest  # noqa: E402
from bot.reports.outcomes import build_outcomes  # noqa: E402
from storage.db import Store  # noqa: E402
from storage.models import Answer, Conversation, ConversationStatus, Person, Question, QuestionStatus  # noqa: E402

START, END = date(2027, 1, 4), date(2027, 6, 25)
# A Monday in the midpoint weeks: the digest's week holds the midpoint answers.
DIGEST_AT = datetime(2027, 4, 5, 6, 0, tzinfo=UTC)
PARTNERSHIPS = 100
MIDPOINT_KEYS = ("observations", "learning", "achievements", "next_steps", "opportunities", "aha")


def programme(participants: int, directory: Path) -> Path:
    """`PARTNERSHIPS` partnerships of two learning goals and one coordinator each, and
    `participants` people spread evenly over them (hosted by Sahaj, from Aspada)."""
    data = yaml.safe_load((ROOT / "examples" / "programme.yaml").read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    coordinator = data["coordinators"][0]
    data["partnerships"] = [
        {
            "id": f"ps{n:03d}",
            "name": f"Partnership {n:03d}",
            "organisations": ["aspada", "sahaj"],
            "learning_goals": [
                {"id": f"g{n:03d}a", "text": f"Goal A of partnership {n:03d}", "outcome": "technical-competence"},
                {"id": f"g{n:03d}b", "text": f"Goal B of partnership {n:03d}", "outcome": "organisational-development"},
            ],
        }
        for n in range(PARTNERSHIPS)
    ]
    data["coordinators"] = [
        dict(coordinator, id=f"c{n:03d}", name=f"Coordinator {n:03d}", slack=None, partnerships=[f"ps{n:03d}"])
        for n in range(PARTNERSHIPS)
    ]
    data["participants"] = []
    for n in range(participants):
        ps = n % PARTNERSHIPS
        person = dict(rina, id=f"p{n:05d}", name=f"Participant {n:05d}", language="en", start=START, end=END)
        person.update(partnership=f"ps{ps:03d}", learning_goals=[f"g{ps:03d}a", f"g{ps:03d}b"])
        person.pop("slack", None)
        data["participants"].append(person)
    for panel in data.get("panels", []):
        panel["presenters"] = []
    data.pop("colleagues", None)
    data.pop("pairing", None)
    path = directory / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _lived(person: Any, random_: random.Random) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The person's conversations, each with its questions' (question, answer) values: 100 answers."""
    goals = [f"g{person.partnership_id[2:]}a", f"g{person.partnership_id[2:]}b"]  # type: ignore[index]

    def rating(key: str, goal: str) -> dict[str, Any]:
        score = str(random_.randint(1, 5))
        return {"key": key, "kind": "scale", "goal_id": goal, "text": score, "values": [score]}

    def words(key: str, goal: str | None = None) -> dict[str, Any]:
        return {"key": key, "kind": "text", "goal_id": goal, "text": f"A few words for {key}.", "values": None}

    welcome = [q for g in goals for q in (rating("goal_progress", g), words("goal_progress_why", g))]
    midpoint = [words(MIDPOINT_KEYS[i % len(MIDPOINT_KEYS)]) for i in range(60)]
    midpoint += [q for g in goals for q in (rating("goal_progress", g), words("goal_progress_why", g))]
    chosen = random_.sample(["technical-competence", "organisational-development", "innovation"], 2)
    final = [{"key": "outcomes", "kind": "multi", "goal_id": None, "text": ", ".join(chosen), "values": chosen}]
    final += [q for g in goals for q in (rating("goal_progress", g), words("goal_progress_why", g))]
    final += [words("adopt"), words(f"outcome_{chosen[0]}"), words(f"outcome_{chosen[1]}")]
    applied = "yes" if random_.random() < 0.6 else "no"
    follow = [{"key": "applied", "kind": "single", "goal_id": None, "text": applied, "values": [applied]}]
    follow += [words(k) for k in ("applied_what", "shared_home", "in_the_way", "would_help")] * 3
    follow = follow[:12]
    return [
        ({"flow": "welcome", "context": None, "day": START + timedelta(days=2)}, welcome),
        ({"flow": "midpoint", "context": None, "day": DIGEST_AT.date() - timedelta(days=3)}, midpoint),
        ({"flow": "final", "context": None, "day": END - timedelta(days=3)}, final),
        ({"flow": "follow-up", "context": {"months": 3}, "day": END + timedelta(days=92)}, follow),
        ({"flow": "follow-up", "context": {"months": 6}, "day": END + timedelta(days=183)}, follow),
    ]


async def fill(store: Store) -> int:
    """Write every participant's lived year in bulk (ids given here, so no row is read back);
    the number of answers written."""
    random_ = random.Random(2027)
    async with store.session() as session:
        connection = await session.connection()
        people = (await connection.execute(select(Person).where(Person.role == "participant"))).all()
        conv_id = (await connection.execute(select(func.coalesce(func.max(Conversation.id), 0)))).scalar_one()
        question_id = (await connection.execute(select(func.coalesce(func.max(Question.id), 0)))).scalar_one()
    written = 0
    for start in range(0, len(people), 250):
        conversations: list[dict[str, Any]] = []
        questions: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for person in people[start : start + 250]:
            for conv, asked in _lived(person, random_):
                conv_id += 1
                at = datetime.combine(conv["day"], datetime.min.time(), UTC) + timedelta(hours=4)
                suffix = f":{conv['context']['months']}" if conv["context"] else ""
                conversations.append(
                    {
                        "id": conv_id,
                        "key": f"{conv['flow']}{suffix}:{person.id}",
                        "person_id": person.id,
                        "flow": conv["flow"],
                        "status": ConversationStatus.DONE,
                        "group": 0,
                        "group_count": 1,
                        "all_now": False,
                        "created_at": at,
                        "started_at": at,
                        "finished_at": at + timedelta(days=1),
                        "context": conv["context"],
                        "answered": True,
                    }
                )
                for position, q in enumerate(asked):
                    question_id += 1
                    questions.append(
                        {
                            "id": question_id,
                            "conversation_id": conv_id,
                            "person_id": person.id,
                            "position": position,
                            "key": q["key"],
                            "group": 0,
                            "kind": q["kind"],
                            "goal_id": q["goal_id"],
                            "text": "The question as asked.",
                            "status": QuestionStatus.ANSWERED,
                            "asked_at": at,
                            "reminders_sent": 0,
                        }
                    )
                    answers.append(
                        {
                            "question_id": question_id,
                            "person_id": person.id,
                            "goal_id": q["goal_id"],
                            "key": q["key"],
                            "conversation_id": conv_id,
                            "flow": conv["flow"],
                            "text": q["text"],
                            "values": q["values"],
                            "answered_at": at + timedelta(hours=1),
                            "platform": "console",
                        }
                    )
        async with store.session() as session:
            connection = await session.connection()
            for model, rows in ((Conversation, conversations), (Question, questions), (Answer, answers)):
                await connection.execute(insert(model), rows)
        written += len(answers)
    if store.engine.dialect.name == "postgresql":
        async with store.session() as session:
            # Sequences after explicit ids; then what autovacuum does soon after a bulk load (it
            # vacuums a table after many inserts too): fresh planner statistics, and the
            # visibility map that lets the report's counts read only their index.
            connection = await session.connection()
            for table in ("conversation", "question"):
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
        async with store.engine.connect() as connection:
            await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    return written


async def timed(label: str, work: Callable[[], Awaitable[object]]) -> None:
    await work()  # warm-up: caches, prepared statements
    walls = []
    for _ in range(5):
        began = time.perf_counter()
        await work()
        walls.append(time.perf_counter() - began)
    print(f"{label}: median {1000 * statistics.median(walls):.0f} ms wall (min {1000 * min(walls):.0f} ms)")


async def measure(url: str) -> None:
    store = Store(url)
    try:
        began = time.perf_counter()
        written = await fill(store)
        print(f"stored {written} answers in {time.perf_counter() - began:.0f} s")
        await timed("digest (one coordinator, 100 participants)", lambda: build_digest(store, "c000", DIGEST_AT))
        await timed("outcome report (the whole programme)", lambda: build_outcomes(store))
        await timed("outcome report (one partnership)", lambda: build_outcomes(store, partnership_ids=["ps000"]))
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        url = args.database_url or f"sqlite:///{directory / 'reports.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_"))}
        env |= {"DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        path = programme(args.participants, directory)
        run_cli(env, "init")
        wall, _peak = run_cli(env, "import", str(path))
        print(f"{args.participants} participants in {PARTNERSHIPS} partnerships imported in {wall:.0f} s, on {url.split(':')[0]}")
        asyncio.run(measure(url))


if __name__ == "__main__":
    main()
