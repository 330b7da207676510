"""Where a person is in a conversation: the one count behind every "n of m" they or their
coordinator see.

The total is every question of the conversation as it was created, follow-ups that may never be
asked included, so it never changes while the conversation runs. A question is done once it is
answered, skipped, or passed as not needed (a follow-up its earlier answer did not call for).
Questions are asked in their order and each is done before the next, so the question being asked
is always number `done + 1`.

Which number each display shows:
- the prompt header ("Midpoint reflection · 2 of 9", `Outgoing.progress`): `number`, the place of
  the question in that prompt;
- `status` ("2 of 9 questions answered"), the coordinator digest, and the home views: `done`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.conversations import questions_of
from storage.models import Conversation, Question, QuestionStatus

DONE = frozenset({QuestionStatus.ANSWERED, QuestionStatus.SKIPPED, QuestionStatus.NOT_APPLICABLE})


@dataclass(frozen=True)
class Progress:
    number: int  # the place of the question asked (or, without one, of the next), 1-based
    done: int
    total: int


def done_of(statuses: Iterable[str]) -> tuple[int, int]:
    """(done, total) over the statuses of a conversation's questions, for displays that read
    only those (the home view)."""
    listed = list(statuses)
    return sum(1 for s in listed if s in DONE), len(listed)


def progress(questions: Sequence[Question], current: int | None = None) -> Progress:
    """Over a conversation's questions, already loaded. `current`: the id of the question a
    prompt asks, which gives `number`; without it, `number` is that of the next question."""
    ordered = sorted(questions, key=lambda q: q.position)
    done, _total = done_of(q.status for q in ordered)
    number = next(
        (place for place, q in enumerate(ordered, 1) if current is not None and q.id == current),
        min(done + 1, len(ordered)),
    )
    return Progress(number=number, done=done, total=len(ordered))


async def progress_of(
    session: AsyncSession, conversation: Conversation, current: int | None = None
) -> Progress:
    assert conversation.id is not None
    return progress(await questions_of(session, conversation.id), current)
