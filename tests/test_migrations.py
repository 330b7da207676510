"""The migrations create exactly the tables the models describe, so `reflectbot init` is enough, and
an upgrade keeps what was stored before it readable."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.reports.outcomes import build_outcomes
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import alembic_config, migrate
from tests.conftest import PROGRAMME
from tests.support import RecordingSender


async def test_migrations_match_the_models(store: Store) -> None:
    def check(connection: Connection) -> None:
        command.check(alembic_config(connection))  # raises when autogenerate would add anything

    async with store.engine.begin() as connection:
        await connection.run_sync(check)


AT = "'2027-06-20 04:00:00.000000'"  # an untyped literal: both databases take it as a time


def _answered_as_before_0013(person: str, conversation: int, question: int) -> list[str]:
    """A final reflection's outcome question answered as a version before 0013 wrote it: the
    answer without its key, conversation or flow (the conversation not marked answered)."""
    return [
        'INSERT INTO conversation (id, key, person_id, flow, status, "group", group_count, all_now, '
        f"created_at, started_at) VALUES ({conversation}, 'final:{person}', '{person}', 'final', 'done', "
        f"0, 1, false, {AT}, {AT})",
        'INSERT INTO question (id, conversation_id, person_id, position, key, "group", kind, text, status, '
        f"reminders_sent) VALUES ({question}, {conversation}, '{person}', 0, 'outcomes', 0, 'multi', "
        "'Which?', 'answered', 0)",
        "INSERT INTO answer (question_id, person_id, text, \"values\", answered_at, platform) VALUES "
        f"({question}, '{person}', 'Technical competence', '[\"technical-competence\"]', {AT}, 'console')",
    ]


async def test_an_answer_stored_by_an_older_replica_after_the_upgrade_is_counted_after_a_sweep(
    programme: Store,
) -> None:
    # Replicas are upgraded one by one: one still on the old version stores an answer the way
    # it knows, into the migrated tables.
    async with programme.engine.begin() as connection:
        for statement in _answered_as_before_0013("rina", 902, 902):
            await connection.execute(text(statement))
    assert (await build_outcomes(programme)).respondents == 0
    sweeps = Sweeps(Engine(programme), Deliverer(programme, {"console": RecordingSender()}))
    await sweeps.run_all(datetime(2027, 6, 21, 4, 0, tzinfo=UTC))
    outcomes = await build_outcomes(programme)
    assert outcomes.respondents == 1
    assert next(s for s in outcomes.shares if s.outcome == "technical-competence").participants == 1
    assert next(r for r in outcomes.response_rates if r.flow == "final").answered == 1


async def test_answers_stored_before_answers_carried_their_keys_are_still_counted(database_url: str) -> None:
    """0013 copies each answer's question key and conversation flow onto it, and marks the
    conversations that were answered: a report after the upgrade counts what came before it."""
    store = Store(database_url)
    try:
        await migrate(store, "0012")
        await import_programme(store, PROGRAMME)
        async with store.engine.begin() as connection:
            for statement in _answered_as_before_0013("rina", 901, 901):
                await connection.execute(text(statement))
        await migrate(store)
        outcomes = await build_outcomes(store)
    finally:
        await store.close()
    assert outcomes.respondents == 1
    assert next(s for s in outcomes.shares if s.outcome == "technical-competence").participants == 1
    assert next(r for r in outcomes.response_rates if r.flow == "final").answered == 1


async def test_a_long_answer_in_words_is_stored_whatever_its_question(programme: Store) -> None:
    # A PostgreSQL index entry holds at most 2.7 kB: an index that held the words of answers
    # would refuse a long one (what a home organisation should adopt, in Bengali), and the
    # person's reply would be lost.
    letters = [chr(c) for c in range(0x0985, 0x09B9)] + [" "] * 6
    # About 24 kB in UTF-8, and not so repetitive that PostgreSQL would compress it small.
    rng = random.Random(2027)
    words = "".join(rng.choice(letters) for _ in range(8000))
    async with programme.engine.begin() as connection:
        for statement in _answered_as_before_0013("rina", 903, 903):
            await connection.execute(text(statement))
        await connection.execute(
            text("UPDATE question SET key = 'adopt', kind = 'text' WHERE id = 903")
        )
        await connection.execute(text("UPDATE answer SET text = :words WHERE question_id = 903"), {"words": words})
    sweeps = Sweeps(Engine(programme), Deliverer(programme, {"console": RecordingSender()}))
    await sweeps.run_all(datetime(2027, 6, 21, 4, 0, tzinfo=UTC))  # fills in its key: 'adopt'
    outcomes = await build_outcomes(programme)
    assert [a.texts for a in outcomes.adoptions] == [(words,)]
