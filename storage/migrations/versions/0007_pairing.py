"""pairing: settings, colleagues' interests, choices, rounds and pairs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "pairingsettings",
        sa.Column("programme_id", _TEXT(), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("who", _TEXT(), nullable=False),
        sa.Column("ask", _TEXT(), nullable=False),
        sa.Column("check_back_after_days", sa.Integer(), nullable=False),
        sa.Column("returned_within_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("programme_id"),
    )
    op.create_table(
        "interest",
        sa.Column("person_id", _TEXT(), nullable=False),
        sa.Column("goal_id", _TEXT(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["learninggoal.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "goal_id"),
    )
    op.create_table(
        "pairingchoice",
        sa.Column("person_id", _TEXT(), nullable=False),
        sa.Column("choice", _TEXT(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("changed_at", _WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "pairinground",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", _TEXT(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("made_at", _WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("programme_id", "number"),
    )
    with op.batch_alter_table("pairinground", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairinground_programme_id"), ["programme_id"], unique=False)
    op.create_table(
        "pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organisation_id", _TEXT(), nullable=False),
        sa.Column("goal_id", _TEXT(), nullable=True),
        sa.Column("reason", _TEXT(), nullable=False),
        sa.Column("overlap_hours", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["learninggoal.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pairinground.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pair_round_id"), ["round_id"], unique=False)
    op.create_table(
        "pairmember",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", _TEXT(), nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pairinground.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "person_id"),
    )
    with op.batch_alter_table("pairmember", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairmember_pair_id"), ["pair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pairmember_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pairmember", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairmember_person_id"))
        batch_op.drop_index(batch_op.f("ix_pairmember_pair_id"))
    op.drop_table("pairmember")
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_round_id"))
    op.drop_table("pair")
    with op.batch_alter_table("pairinground", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pairinground_programme_id"))
    op.drop_table("pairinground")
    op.drop_table("pairingchoice")
    op.drop_table("interest")
    op.drop_table("pairingsettings")
