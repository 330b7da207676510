"""The tables. Every conversation's state lives here, so any process can continue any conversation.

Datetimes are timezone-aware and stored in UTC (SQLModel's UTCDateTime refuses naive ones, which
keeps local times from slipping in); local dates and times exist only at the edges (`bot.calendar`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint, false, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.pending_actions import PendingAction, PendingActionColumn


class ConversationStatus(StrEnum):
    PENDING = "pending"  # created, not asked yet: another one comes first on the person's agenda
    OPEN = "open"  # the one being asked now; at most one per person, so a reply has one home
    # Was open, set aside for one with an earlier deadline (panel preparation); resumes after it.
    WAITING = "waiting"
    DONE = "done"
    EXPIRED = "expired"


class QuestionStatus(StrEnum):
    PENDING = "pending"
    ASKED = "asked"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not_applicable"  # a follow-up its earlier answer did not call for


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # The person's platform has no such operation (e.g. a home view in Teams): nothing to send.
    SKIPPED = "skipped"
    # A question held during a pause, replaced on resume by the question current then.
    SUPERSEDED = "superseded"


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # set aside after repeated failures, kept for someone to look at


class StatusColumn(TypeDecorator[StrEnum]):
    """A status stored as its plain string (the columns were strings before they were typed, so no
    migration); read back as the enum, and refused when written with a value it does not have."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


class Programme(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    timezone: str
    language: str
    teams_tenant: str | None = None
    reflection_days: int = 5
    prompt_time: str = "10:00"
    reminder_after_days: int = 2
    reminder_max: int = 2
    digest_every: str = "monday 08:00"
    # What a person wrote is deleted this many months after their exchange ended (None: kept).
    retention_months: int | None = None
    # Months after an exchange ends that a follow-up conversation is held, comma-separated ("3,6").
    follow_up_months: str = Field(default="3,6", sa_column_kwargs={"server_default": "3,6"})


class Organisation(SQLModel, table=True):
    id: str = Field(primary_key=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    name: str
    country: str
    # Comma-separated three-letter weekday names, e.g. "sun,mon,tue,wed,thu".
    workdays: str = "mon,tue,wed,thu,fri"


class Partnership(SQLModel, table=True):
    id: str = Field(primary_key=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    name: str


class PartnershipOrganisation(SQLModel, table=True):
    partnership_id: str = Field(foreign_key="partnership.id", primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", primary_key=True)
    position: int = 0


class LearningGoal(SQLModel, table=True):
    id: str = Field(primary_key=True)
    partnership_id: str = Field(foreign_key="partnership.id", index=True)
    text: str
    outcome: str
    position: int = 0


class Person(SQLModel, table=True):
    """A participant, coordinator or colleague. A forgotten person stays as a placeholder."""

    id: str = Field(primary_key=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    role: str  # participant | coordinator | colleague
    name: str
    timezone: str | None = None
    language: str | None = None
    partnership_id: str | None = Field(default=None, foreign_key="partnership.id")
    home_organisation_id: str | None = Field(default=None, foreign_key="organisation.id")
    host_organisation_id: str | None = Field(default=None, foreign_key="organisation.id")
    organisation_id: str | None = Field(default=None, foreign_key="organisation.id")
    start: date | None = None
    end: date | None = None
    forgotten: bool = False
    # When an import no longer found them in the programme file: they are asked nothing more,
    # and what they wrote is kept until `forget`. Listed again, they are back (cleared).
    left_at: datetime | None = None
    # When their next planned conversation falls due, as computed from the programme at
    # `planned_version`; an import that changes the programme bumps `plan_version`, and the
    # sweep computes it again. A sweep reads only the people due or not yet computed.
    next_due_at: datetime | None = Field(default=None, index=True)
    plan_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    planned_version: int = Field(default=-1, sa_column_kwargs={"server_default": "-1"})
    paused: bool = False
    paused_until: date | None = None
    # A command waiting for its second half (e.g. `support` waiting for the words to send).
    pending_action: PendingAction | None = Field(default=None, sa_column=Column(PendingActionColumn))
    unreachable_reason: str | None = None

    @property
    def in_programme(self) -> bool:
        """Still someone the programme asks, reminds and sends digests to."""
        return not self.forgotten and self.left_at is None


class PersonGoal(SQLModel, table=True):
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    goal_id: str = Field(foreign_key="learninggoal.id", primary_key=True)
    position: int = 0


class CoordinatorPartnership(SQLModel, table=True):
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    partnership_id: str = Field(foreign_key="partnership.id", primary_key=True)


class ChatIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    platform: str  # slack | teams
    external_id: str
    # Platform data needed to reach the person later (e.g. a Teams conversation reference).
    reference: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Panel(SQLModel, table=True):
    id: str = Field(primary_key=True)
    programme_id: str = Field(foreign_key="programme.id", index=True)
    title: str
    at: datetime  # UTC
    timezone: str
    place: str = ""
    prep_days_before: int = 7
    slack_channel: str | None = None
    teams_channel: str | None = None


class PanelPresenter(SQLModel, table=True):
    panel_id: str = Field(foreign_key="panel.id", primary_key=True)
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    position: int = 0


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Unique per planned conversation ("midpoint:rina"), so starting one twice creates it once.
    key: str = Field(unique=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    flow: str
    status: ConversationStatus = Field(
        default=ConversationStatus.PENDING, sa_type=StatusColumn(ConversationStatus)
    )
    group: int = 0
    group_count: int = 1
    all_now: bool = False
    current_question_id: int | None = None
    next_group_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    context: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Set with its first answer: the outcome report's response rates read it here, not by
    # looking for an answer among each conversation's questions.
    answered: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Question(SQLModel, table=True):
    """One question as put to one person, with the text as asked, in their language."""

    # By key (and goal): the outcome report reads the answers to a few questions out of many.
    __table_args__ = (UniqueConstraint("conversation_id", "position"), Index("ix_question_key", "key", "goal_id"))

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    position: int
    key: str
    group: int = 0
    kind: str  # text | single | multi | scale | info
    goal_id: str | None = Field(default=None, foreign_key="learninggoal.id")
    text: str
    choices: list[dict[str, str]] | None = Field(default=None, sa_column=Column(JSON))
    status: QuestionStatus = Field(default=QuestionStatus.PENDING, sa_type=StatusColumn(QuestionStatus))
    # When it was last asked (again, after its conversation waited): reminders count from here.
    asked_at: datetime | None = None
    reminders_sent: int = 0
    reminded_at: datetime | None = None  # the last reminder actually written


# The questions of options whose answers the outcome report counts (bot.reports.outcome_counts):
# a tenth of all answers, each text only the options' labels (a PostgreSQL index entry holds at
# most 2.7 kB, so no free text may go in one).
COUNTED_KEYS = ("outcomes", "goal_progress", "applied")
COUNTED_WHERE = "key IN ({})".format(", ".join(f"'{key}'" for key in COUNTED_KEYS))


class Answer(SQLModel, table=True):
    # The question's key, its conversation and the conversation's flow are copied here when the
    # answer is stored (none ever changes): the reports find the answers they count by them,
    # without joining a million answers to their questions. On PostgreSQL a second index also
    # holds what the outcome report reads of the answers it counts, so it reads no table row.
    __table_args__ = (
        Index("ix_answer_key_flow", "key", "flow"),
        Index(
            "ix_answer_counted",
            "key",
            "flow",
            "goal_id",
            postgresql_include=["person_id", "conversation_id", "text", "values"],
            postgresql_where=text(COUNTED_WHERE),
            sqlite_where=text(COUNTED_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", unique=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    goal_id: str | None = Field(default=None, foreign_key="learninggoal.id")
    key: str | None = None
    flow: str | None = None
    conversation_id: int | None = None  # the question's (its foreign key is the question's)
    text: str
    values: list[str] | None = Field(default=None, sa_column=Column(JSON))
    answered_at: datetime
    corrected_at: datetime | None = None
    platform: str = "console"


class AhaMoment(SQLModel, table=True):
    """An aha moment, takeaway or discussion question, with what the person allows the panel to see."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    question_id: int | None = Field(default=None, foreign_key="question.id", unique=True)
    panel_id: str | None = Field(default=None, foreign_key="panel.id")
    kind: str = "aha"  # aha | takeaway | discussion
    text: str
    consent: str = "private"  # named | anonymous | private
    created_at: datetime


class Note(SQLModel, table=True):
    """Something a person wrote that answered no question (between a day's questions and the
    next, between conversations): theirs, kept, never thrown away."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    text: str
    written_at: datetime
    platform: str = "console"


class SupportRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    text: str = ""
    created_at: datetime
    handled_at: datetime | None = None
    handled_by: str | None = None


class OutboxMessage(SQLModel, table=True):
    """A message written before it is sent, so a crash between the two loses nothing."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    # A message goes to a person, or to a channel ("slack:C0PANEL001") such as a panel's audience.
    person_id: str | None = Field(default=None, foreign_key="person.id", index=True)
    channel: str | None = None
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    question_id: int | None = Field(default=None, foreign_key="question.id", index=True)
    # Whose words the message quotes when it goes to someone else (a support alert), so that
    # forgetting that person removes it too.
    about_person_id: str | None = Field(default=None, index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, index=True, sa_type=StatusColumn(OutboxStatus))
    attempts: int = 0
    not_before: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    platform: str | None = None
    # Looked up when a click on a sent message comes back (storage/sent.py).
    platform_message_id: str | None = Field(default=None, index=True)
    last_error: str | None = None
    created_at: datetime


class InboundEvent(SQLModel, table=True):
    """The inbox: what a person sent, stored in one insert before the platform is answered, and
    then taken by the engine in arrival order. The unique event id makes a platform's retry a
    no-op; once taken, the row keeps only that id (the words now live in the answer)."""

    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    event_id: str
    received_at: datetime
    person_id: str | None = Field(default=None, foreign_key="person.id", index=True)
    # The neutral `Incoming` as JSON while it waits; emptied once taken.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: InboxStatus = Field(default=InboxStatus.DONE, index=True, sa_type=StatusColumn(InboxStatus))
    attempts: int = 0
    taken_at: datetime | None = None
    last_error: str | None = None


class AuditKind(StrEnum):
    EXPORT = "export"
    FORGET = "forget"
    RETENTION = "retention"
    COORDINATOR_LINK = "coordinator-link"
    RECORD_APPROVAL = "record-approval"


class AuditEvent(SQLModel, table=True):
    """What was done with a person's data: who, when (the database's clock) and what (the kind,
    with ids and counts). Never what anyone wrote. Written only through `storage.audit`, in the
    transaction of what it records."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    kind: AuditKind = Field(sa_type=StatusColumn(AuditKind))
    # Who did it: "cli:USER" (a command run by hand), "person:ID" (their own request in a chat),
    # "scheduler" (a sweep), "coordinator:ID".
    actor: str
    person_id: str | None = Field(default=None, index=True)  # whose data
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class WebSecret(SQLModel, table=True):
    """The key coordinators' web links are signed with, made once when WEB_SECRET is not set, so
    that `serve` and `reflectbot link` (separate processes) sign and check alike."""

    id: int = Field(default=1, primary_key=True)
    secret: str
    created_at: datetime


class WebLinkRevocation(SQLModel, table=True):
    """`reflectbot link --revoke`: every link of the coordinator issued before then is refused."""

    coordinator_id: str = Field(foreign_key="person.id", primary_key=True)
    revoked_before: datetime


# Pairing's tables live in their own module; imported here so that every table is known wherever
# the models are (migrations, `create_all` in tests).
from storage.pairing_tables import (  # noqa: E402
    Interest,
    Pair,
    PairingChoice,
    PairingRound,
    PairingSettings,
    PairMember,
)

__all__ = ["Interest", "Pair", "PairMember", "PairingChoice", "PairingRound", "PairingSettings"]

# Shared pacing's bucket table lives in its own module too (storage.pacing uses it).
from storage.pacing_tables import PacingBucket  # noqa: E402

__all__ += ["PacingBucket"]

# The learning record's choices and approval (storage.records uses them).
from storage.record_tables import RecordApproval, RecordChoice  # noqa: E402

__all__ += ["RecordApproval", "RecordChoice"]
