"""people who left the programme (no longer in the imported file, kept until forgotten), and
when each participant's next conversation falls due, so that a sweep reads only who is due;
sent messages found by their ids

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("plan_version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("planned_version", sa.Integer(), nullable=False, server_default="-1"))
        batch_op.create_index(batch_op.f("ix_person_next_due_at"), ["next_due_at"], unique=False)
    # The lookups of a sent message (a click on it, an answer shown in it) by its ids.
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outboxmessage_question_id"), ["question_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outboxmessage_platform_message_id"), ["platform_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_platform_message_id"))
        batch_op.drop_index(batch_op.f("ix_outboxmessage_question_id"))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_next_due_at"))
        batch_op.drop_column("planned_version")
        batch_op.drop_column("plan_version")
        batch_op.drop_column("next_due_at")
        batch_op.drop_column("left_at")
