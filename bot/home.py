"""A person's home view (Slack's App Home), as neutral data: their learning goals, what is coming
up (the open conversation's progress, the conversations planned after it), and their answers so
far. Read from storage when it is shown; each platform only renders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.plan import Directory
from bot.progress import done_of
from storage.db import Store
from storage.models import Person
from storage.notes import notes_of
from storage.people import goals_of
from storage.reflections import answered_by, conversations_of


@dataclass(frozen=True)
class InProgress:
    """The conversation open now: how many of its questions are dealt with."""

    flow: str
    done: int
    total: int
    next_questions_at: datetime | None  # in the person's time zone, when today's are done


@dataclass(frozen=True)
class Upcoming:
    """A conversation planned for later."""

    flow: str
    starts_at: datetime  # in the person's time zone


@dataclass(frozen=True)
class Answered:
    question: str
    answer: str


@dataclass(frozen=True)
class HomeView:
    person_id: str
    language: str
    goals: tuple[str, ...]
    coming: tuple[InProgress | Upcoming, ...]  # in the order they fall due
    answers: tuple[Answered, ...]  # every answer, in the order the questions were asked
    notes: tuple[str, ...] = ()  # what they wrote that answered no question, oldest first


async def home_for(store: Store, person_id: str, now: datetime) -> HomeView | None:
    """The person's home view as of `now`; None for someone unknown or forgotten."""
    async with store.reading() as session:
        person = await session.get(Person, person_id)
        if person is None or person.forgotten:
            return None
        directory = await Directory.load(session, person.id)
        programme = directory.programmes[person.programme_id]
        goals = [goal.text for goal in await goals_of(session, person.id)]
        conversations = await conversations_of(session, person.id)
        answers = await answered_by(session, person.id)
        notes = await notes_of(session, [person.id])
    zone = directory.calendar(person).zone
    coming: list[InProgress | Upcoming] = []
    for planned in directory.plan(person):
        conversation = conversations.get(planned.key)
        # One set aside for a panel preparation ("waiting") is as far along as it was.
        if conversation is not None and conversation.status in ("open", "waiting"):
            # "n of m" as `status` and the digest count it (bot/progress.py).
            done, total = done_of(conversation.question_statuses)
            upcoming = conversation.next_group_at.astimezone(zone) if conversation.next_group_at else None
            coming.append(InProgress(planned.flow, done, total, upcoming))
        elif (conversation is None or conversation.status == "pending") and (
            planned.expires_at is None or planned.expires_at > now
        ):
            coming.append(Upcoming(planned.flow, max(planned.due_at, now).astimezone(zone)))
    return HomeView(
        person_id=person.id,
        language=person.language or programme.language,
        goals=tuple(goals),
        coming=tuple(coming),
        answers=tuple(Answered(a.question, a.answer) for a in answers),
        notes=tuple(n.text for n in notes),
    )
