"""A person's agenda: which of their conversations is asked now.

Several conversations can be due for one person at once (a midpoint, a panel preparation, the
final reflection). One is asked at a time, so that a typed reply has exactly one question it
answers; which one is chosen by deadline: the conversation that can no longer serve its purpose
soonest (a panel preparation, once its panel has begun) goes first, and one without a deadline
last. Ties go to the one that fell due first. A conversation set aside for another waits with its
place kept and resumes after it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import Conversation

_NO_DEADLINE = datetime.max.replace(tzinfo=UTC)


def rank(conv: Conversation) -> tuple[datetime, datetime, int]:
    return (conv.expires_at or _NO_DEADLINE, conv.created_at, conv.id or 0)


def comes_before(new: Conversation, current: Conversation) -> bool:
    """Whether `new` should be asked before the conversation being asked now: only for a
    strictly earlier deadline, so the person is not moved back and forth between equals."""
    return new.expires_at is not None and (current.expires_at is None or new.expires_at < current.expires_at)


def next_of(candidates: list[Conversation], now: datetime) -> Conversation | None:
    """The conversation to ask next among those waiting, leaving out any past its deadline."""
    live = [c for c in candidates if c.expires_at is None or c.expires_at > now]
    return min(live, key=rank) if live else None
