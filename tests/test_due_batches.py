"""A morning when hundreds of people's midpoints fall due at once: the sweep starts them a batch of
people at a time (`bot.starts`), and each person gets what one person started alone gets, once,
introduction first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.plan import plan_for
from bot.starts import BATCH
from scheduler.sweeps import Snapshot, Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Conversation, ConversationStatus, OutboxMessage, Person
from tests.conftest import PROGRAMME
from tests.databases import fresh_database
from tests.support import RecordingSender

MIDPOINT = datetime(2027, 3, 31, 4, 15, tzinfo=UTC)  # 10:00 in Kathmandu, Rina's midpoint
LANGUAGES = ("bn", "en", "ne")
GOALS = (["self-reliance-groups"], ["self-reliance-groups", "community-hospital-model"])


def crowd(directory: Path, count: int) -> Path:
    """The sample programme with `count` more people like Rina, in three languages and with one
    or two learning goals, all at their midpoint on the same morning."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    rina = next(p for p in data["participants"] if p["id"] == "rina")
    data["participants"] += [
        dict(
            rina,
            id=f"p{n:03d}",
            name=f"Participant {n:03d}",
            language=LANGUAGES[n % 3],
            learning_goals=GOALS[n % 2],
            slack=None,
        )
        for n in range(count)
    ]
    for person in data["participants"]:
        if person["id"].startswith("p") and person.get("slack") is None:
            person.pop("slack")
    path = directory / "crowd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def sweeps_of(store: Store) -> Sweeps:
    return Sweeps(Engine(store), Deliverer(store, {"console": RecordingSender()}))


async def messages_of(store: Store, person_id: str) -> list[tuple[str, str]]:
    """(kind, text) of what was written to the person, in the order it is sent."""
    async with store.reading() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(col(OutboxMessage.id))
            )
        ).all()
    return [(row.payload["kind"], row.payload["text"]) for row in rows if row.payload]


async def test_a_sweep_starting_more_people_than_a_batch_gives_each_what_one_started_alone_gets(
    programme: Store, tmp_path: Path
) -> None:
    count = 2 * BATCH + 30
    path = crowd(tmp_path, count)
    await import_programme(programme, path)
    sweeps = sweeps_of(programme)
    async with programme.reading() as session:
        snap = await Snapshot.load(session, MIDPOINT)
    assert await sweeps.start_due(MIDPOINT, snap) >= count

    # The same people, one of each language and number of goals, each started alone elsewhere.
    with fresh_database(tmp_path, "alone") as url:
        alone = Store(url)
        try:
            await migrate(alone)
            await import_programme(alone, path)
            engine = Engine(alone)
            for person_id in ("p000", "p001", "p002", "p003", "p004", "p005"):
                async with alone.reading() as session:
                    person = await session.get(Person, person_id)
                    assert person is not None
                    midpoint = next(p for p in await plan_for(session, person) if p.flow == "midpoint")
                assert await engine.start(person_id, midpoint, MIDPOINT) is not None
                expected = await messages_of(alone, person_id)
                assert [kind for kind, _ in expected] == ["notice", "question"]
                assert await messages_of(programme, person_id) == expected
        finally:
            await alone.close()

    async with programme.reading() as session:
        conversations = (
            await session.exec(
                select(Conversation).where(col(Conversation.person_id).in_([f"p{n:03d}" for n in range(count)]))
            )
        ).all()
    assert len(conversations) == count
    assert {c.status for c in conversations} == {ConversationStatus.OPEN}
    for n in (0, BATCH - 1, BATCH, count - 1):
        assert [kind for kind, _ in await messages_of(programme, f"p{n:03d}")] == ["notice", "question"]

    # The same instant swept again (a second tick) writes nothing more.
    async with programme.reading() as session:
        written = len((await session.exec(select(OutboxMessage.id))).all())
    await sweeps.run_all(MIDPOINT)
    async with programme.reading() as session:
        assert len((await session.exec(select(OutboxMessage.id))).all()) == written


async def test_who_left_or_was_started_elsewhere_since_the_sweep_looked_is_not_started_again(
    programme: Store, tmp_path: Path
) -> None:
    await import_programme(programme, crowd(tmp_path, 20))
    sweeps = sweeps_of(programme)
    async with programme.reading() as session:
        snap = await Snapshot.load(session, MIDPOINT)
    assert {"p003", "p007"} <= {p.id for p in snap.due}

    # After the sweep read who is due: p003 leaves, and another process starts p007's midpoint.
    async with programme.session() as session:
        leaving = await session.get(Person, "p003")
        assert leaving is not None
        leaving.left_at = MIDPOINT
        session.add(leaving)
    async with programme.reading() as session:
        p007 = await session.get(Person, "p007")
        assert p007 is not None
        midpoint = next(p for p in await plan_for(session, p007) if p.flow == "midpoint")
    assert await Engine(programme).start("p007", midpoint, MIDPOINT) is not None

    await sweeps.start_due(MIDPOINT, snap)
    assert await messages_of(programme, "p003") == []
    assert [kind for kind, _ in await messages_of(programme, "p007")] == ["notice", "question"]
    assert [kind for kind, _ in await messages_of(programme, "p008")] == ["notice", "question"]
    async with programme.reading() as session:
        keys = (await session.exec(select(Conversation.key).where(Conversation.person_id == "p007"))).all()
    assert keys == ["midpoint:p007"]
