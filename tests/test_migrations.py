"""The migrations create exactly the tables the models describe, so `reflectbot init` is enough, and
an upgrade keeps what was stored before it readable."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.reports.outcomes import build_outcomes
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import alembic_config, migrate
from tests.conftest import PROGRAMME


async def test_migrations_match_the_models(store: Store) -> None:
    def check(connection: Connection) -> None:
        command.check(alembic_config(connection))  # raises when autogenerate would add anything

    async with store.engine.begin() as connection:
        await connection.run_sync(check)


async def test_answers_stored_before_answers_carried_their_keys_are_still_counted(database_url: str) -> None:
    """0013 copies each answer's question key and conversation flow onto it, and marks the
    conversations that were answered: a report after the upgrade counts what came before it."""
    store = Store(database_url)
    try:
        await migrate(store, "0012")
        await import_programme(store, PROGRAMME)
        at = "'2027-06-20 04:00:00.000000'"  # an untyped literal: both databases take it as a time
        async with store.engine.begin() as connection:
            for statement in (
                'INSERT INTO conversation (id, key, person_id, flow, status, "group", group_count, all_now, '
                f"created_at, started_at) VALUES (901, 'final:rina', 'rina', 'final', 'done', 0, 1, false, {at}, {at})",
                'INSERT INTO question (id, conversation_id, person_id, position, key, "group", kind, text, status, '
                "reminders_sent) VALUES (901, 901, 'rina', 0, 'outcomes', 0, 'multi', 'Which?', 'answered', 0)",
                "INSERT INTO answer (question_id, person_id, text, \"values\", answered_at, platform) VALUES "
                f"(901, 'rina', 'Technical competence', '[\"technical-competence\"]', {at}, 'console')",
            ):
                await connection.execute(text(statement))
        await migrate(store)
        outcomes = await build_outcomes(store)
    finally:
        await store.close()
    assert outcomes.respondents == 1
    assert next(s for s in outcomes.shares if s.outcome == "technical-competence").participants == 1
    assert next(r for r in outcomes.response_rates if r.flow == "final").answered == 1
