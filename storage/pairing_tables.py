"""The tables of pairing (exchange staff with permanent colleagues): the programme's settings,
colleagues' interests, each person's choice, and the rounds with their pairs.

A round is one row per programme and number (unique), written in the same transaction as its
pairs and their introductions, so whichever process inserts it makes the round and any other
finds it made. A person is in at most one pair a round (unique round and person).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class PairingSettings(SQLModel, table=True):
    programme_id: str = Field(foreign_key="programme.id", primary_key=True)
    every_days: int = 14
    starts: date
    ends: date
    who: str = "on-exchange"  # on-exchange | returned | both
    ask: str = "opt-in"  # opt-in | opt-out
    check_back_after_days: int = 5
    returned_within_days: int = 180


class Interest(SQLModel, table=True):
    """A learning goal a colleague cares about (`interests` in the programme file)."""

    person_id: str = Field(foreign_key="person.id", primary_key=True)
    goal_id: str = Field(foreign_key="learninggoal.id", primary_key=True)
    position: int = 0


class PairingChoice(SQLModel, table=True):
    """What a person said about pairing: in or out, and a pause until a date."""

    person_id: str = Field(foreign_key="person.id", primary_key=True)
    choice: str = "in"  # in | out
    paused_until: date | None = None
    changed_at: datetime


class PairingRound(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    number: int
    day: date  # the round's first day; each person is introduced at their prompt time from then
    made_at: datetime


class Pair(SQLModel, table=True):
    """Two people (three when the count was odd) paired in one round, and why."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pairinground.id", index=True)
    position: int = 0
    organisation_id: str = Field(foreign_key="organisation.id")
    # The learning goal they share, when that is why they were paired.
    goal_id: str | None = Field(default=None, foreign_key="learninggoal.id")
    reason: str = "new"  # goal | hours | new | again
    overlap_hours: int = 0  # working hours a week they share


class PairMember(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="pair.id", index=True)
    round_id: int = Field(foreign_key="pairinground.id")
    person_id: str = Field(foreign_key="person.id", index=True)
