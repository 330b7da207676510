"""answer keys: each answer carries its question's key, conversation and flow, and each
conversation whether it was answered, so the reports count a million answers without joins

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("answer", sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("answer", sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column("answer", sa.Column("conversation_id", sa.Integer(), nullable=True))
    op.add_column(
        "conversation", sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Correlated subqueries: the same statements on SQLite and PostgreSQL.
    op.execute(
        "UPDATE answer SET key = (SELECT question.key FROM question WHERE question.id = answer.question_id), "
        "conversation_id = (SELECT question.conversation_id FROM question WHERE question.id = answer.question_id), "
        "flow = (SELECT conversation.flow FROM question JOIN conversation "
        "ON conversation.id = question.conversation_id WHERE question.id = answer.question_id)"
    )
    op.execute(
        "UPDATE conversation SET answered = true WHERE EXISTS (SELECT 1 FROM question JOIN answer "
        "ON answer.question_id = question.id WHERE question.conversation_id = conversation.id)"
    )
    op.create_index("ix_answer_key_flow", "answer", ["key", "flow"])
    # The report's questions of options, as storage.models.COUNTED_KEYS named them when this was
    # written: no free text, which could outgrow an index entry.
    where = sa.text("key IN ('outcomes', 'goal_progress', 'applied')")
    op.create_index(
        "ix_answer_counted",
        "answer",
        ["key", "flow", "goal_id"],
        postgresql_include=["person_id", "conversation_id", "text", "values"],
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_answer_counted", table_name="answer")
    op.drop_index("ix_answer_key_flow", table_name="answer")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("answered")
    with op.batch_alter_table("answer") as batch:
        batch.drop_column("conversation_id")
        batch.drop_column("flow")
        batch.drop_column("key")
