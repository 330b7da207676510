"""inbox: inbound events keep what was sent until the engine has taken it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before the inbox existed were taken in the same transaction: they are done.
    with op.batch_alter_table("inboundevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="done")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("taken_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f("ix_inboundevent_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inboundevent_status"), ["status"], unique=False)
        batch_op.create_foreign_key("fk_inboundevent_person_id_person", "person", ["person_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("inboundevent", schema=None) as batch_op:
        batch_op.drop_constraint("fk_inboundevent_person_id_person", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_inboundevent_status"))
        batch_op.drop_index(batch_op.f("ix_inboundevent_person_id"))
        batch_op.drop_column("last_error")
        batch_op.drop_column("taken_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")
        batch_op.drop_column("payload")
        batch_op.drop_column("person_id")
