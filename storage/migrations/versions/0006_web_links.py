"""web links: the signing key kept when WEB_SECRET is unset, and revoked coordinator links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "websecret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "weblinkrevocation",
        sa.Column("coordinator_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revoked_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["coordinator_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("coordinator_id"),
    )


def downgrade() -> None:
    op.drop_table("weblinkrevocation")
    op.drop_table("websecret")
