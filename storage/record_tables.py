"""The learning record's tables: what the participant chose to include of each item, and the
coordinator's approval of the record as it stood then.

An item is named by its kind and id (an answer, an aha moment); a missing choice means included.
A change of choice after an approval invalidates it (the record has to be approved again), so
an approval always covers the record as it is printed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class RecordChoice(SQLModel, table=True):
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    item_kind: str = Field(primary_key=True)  # answer | aha
    item_id: int = Field(primary_key=True)
    included: bool = True
    changed_at: datetime


class RecordApproval(SQLModel, table=True):
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    approved_by: str = Field(foreign_key="person.id")
    approved_at: datetime
    # When the participant changed a choice after the approval: a draft again until re-approved.
    invalidated_at: datetime | None = None
