"""The command a person is in the middle of: its first half is written, its second is their next
message (`support` then the words to send; `correct 2` then the new answer).

Stored in `Person.pending_action` as the JSON it always was ({"action": "correct",
"question_id": 12}), so rows written before it was typed read the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupportMessage:
    """`support` alone: the next message goes to the person's coordinators."""

    action: ClassVar[str] = "support"


@dataclass(frozen=True)
class SharedAha:
    """`share` alone: the next message is kept as an aha moment."""

    action: ClassVar[str] = "share"


@dataclass(frozen=True)
class Correction:
    """`correct N`: the next message is the new answer to that question."""

    question_id: int
    action: ClassVar[str] = "correct"


@dataclass(frozen=True)
class MaybeAnswer:
    """A one-word message that looked like a mistyped command: kept here, and stored as the
    answer to that question only if the person says it was one."""

    question_id: int | None  # None: no question was waiting, so it would be kept as a note
    text: str
    action: ClassVar[str] = "maybe-answer"


PendingAction = SupportMessage | SharedAha | Correction | MaybeAnswer


def to_json(pending: PendingAction) -> dict[str, Any]:
    if isinstance(pending, Correction):
        return {"action": pending.action, "question_id": pending.question_id}
    if isinstance(pending, MaybeAnswer):
        return {"action": pending.action, "question_id": pending.question_id, "text": pending.text}
    return {"action": pending.action}


def from_json(data: dict[str, Any] | None) -> PendingAction | None:
    """None for nothing pending, and for what this version does not know (logged by its name)."""
    if not data:
        return None
    action = data.get("action")
    if action == SupportMessage.action:
        return SupportMessage()
    if action == SharedAha.action:
        return SharedAha()
    if action == Correction.action and isinstance(data.get("question_id"), int):
        return Correction(data["question_id"])
    if action == MaybeAnswer.action and isinstance(data.get("question_id"), int | None):
        return MaybeAnswer(data.get("question_id"), str(data.get("text", "")))
    logger.warning("pending action %r not understood; dropped", action)
    return None


class PendingActionColumn(TypeDecorator[PendingAction]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: PendingAction | None, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else to_json(value)

    def process_result_value(self, value: dict[str, Any] | None, dialect: Dialect) -> PendingAction | None:
        return from_json(value)
