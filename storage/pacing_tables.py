"""The table of shared pacing: one row per bucket (a Slack channel, a Slack workspace, a Teams
conversation, a Teams tenant), so that every replica sending to a platform keeps to one pace.

A bucket is GCRA's single number, the theoretical arrival time (`tat`) of the next send, in
seconds since the epoch on the database's clock (every replica reads the same clock). A row
whose `tat` has passed says nothing an absent row does not, so such rows are pruned.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PacingBucket(SQLModel, table=True):
    key: str = Field(primary_key=True)  # e.g. "slack:channel:D0RINA0001", "teams:tenant:<id>"
    tat: float  # when the bucket is next empty at its sustained rate (database clock, epoch s)
    seen: float  # when the last reservation was made (database clock, epoch s)
    wait: float = 0.0  # what the last reservation was told to wait (RETURNING reads it)
