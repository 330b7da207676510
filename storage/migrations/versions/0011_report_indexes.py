"""report indexes: questions by key, so the outcome report reads only the answers it counts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_question_key", "question", ["key", "goal_id"])


def downgrade() -> None:
    op.drop_index("ix_question_key", table_name="question")
