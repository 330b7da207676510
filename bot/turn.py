"""A turn: one unit of work for one person inside one transaction. It knows who they are, their
programme, the instant it happens at and their language, and writes every message it sends to the
outbox in the same transaction as the change that caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Plural, Translator, format_moment
from bot.messages import Outgoing
from bot.plan import calendar_for
from storage.conversations import open_conversation, questions_of
from storage.models import Conversation, LearningGoal, Organisation, Person, Programme, Question
from storage.outbox import outbox_row, write_once
from storage.people import coordinators_of, goals_of


class Turn:
    def __init__(
        self,
        session: AsyncSession,
        person: Person,
        programme: Programme,
        now: datetime,
        translator: Translator,
        origin: str,
        outbox: list[dict[str, Any]] | None = None,
    ) -> None:
        self.session, self.person, self.programme, self.now = session, person, programme, now
        self.translator = translator
        # What caused this turn (a reply's event, a sweep step at an instant): with a count of
        # the messages it wrote, it makes every outbox key deterministic, so the same work done
        # twice, by two processes or after a crash, writes each message once.
        self.origin = origin
        self._written = 0
        self._held: list[Organisation | None] = []
        self.language = person.language or programme.language
        # Read once per turn: the same row objects, which the turn itself updates in place.
        self._goals: list[LearningGoal] | None = None
        self._coordinators: list[Person] | None = None
        self._questions_of: dict[int, list[Question]] = {}
        # Where the turn's messages wait to be written in one statement with other turns' (many
        # people started at once, `bot.starts`); None: each is written as it is sent.
        self._outbox = outbox
        # Questions this turn stored an answer to, in order: the platform may show each one.
        self.answered: list[int] = []

    @classmethod
    async def begin(
        cls,
        session: AsyncSession,
        person: Person,
        now: datetime,
        translator: Translator,
        origin: str,
        outbox: list[dict[str, Any]] | None = None,
    ) -> Turn:
        programme = await session.get(Programme, person.programme_id)
        assert programme is not None
        turn = cls(session, person, programme, now, translator, origin, outbox)
        # Held for the turn: the session's identity map keeps rows only while something refers
        # to them, and a turn reads the person's organisations several times (calendar, texts).
        turn._held = [
            await session.get(Organisation, org_id)
            for org_id in dict.fromkeys(
                (person.host_organisation_id, person.home_organisation_id, person.organisation_id)
            )
            if org_id
        ]
        return turn

    def key(self, kind: str) -> str:
        """The outbox key of this turn's next message of that kind."""
        self._written += 1
        return f"{kind}:{self.person.id}:{self.origin}:{self._written}"

    # -- messages -------------------------------------------------------------------------
    def t(self, message: str | Plural, **values: object) -> str:
        return self.translator.gettext(self.language, message, **values)

    async def say(
        self,
        message: str | Plural,
        key: str | None = None,
        conversation: Conversation | None = None,
        **values: object,
    ) -> None:
        """A notice to this person, in their language. Replies to their own commands carry no key."""
        out = Outgoing(
            person_id=self.person.id,
            text=self.t(message, **values),
            language=self.language,
            always=key is None,
        )
        await self.send(out, key or self.key("reply"), conversation)

    async def send(
        self,
        out: Outgoing,
        key: str,
        conversation: Conversation | None = None,
        question: Question | None = None,
    ) -> None:
        """Any message, to this person or about them (an alert to their coordinator)."""
        row = outbox_row(
            key=key,
            person_id=out.person_id,
            payload=out.to_json(),
            now=self.now,
            conversation_id=conversation.id if conversation else None,
            question_id=question.id if question else None,
            about_person_id=self.person.id if out.person_id != self.person.id else None,
        )
        if self._outbox is not None:
            self._outbox.append(row)
        else:
            await write_once(self.session, row)

    async def local_moment(self, moment: datetime) -> str:
        """An instant as the person reads it: in their time zone and language."""
        cal = await calendar_for(self.session, self.person)
        return format_moment(self.language, moment.astimezone(cal.zone))

    # -- what the turn reads ----------------------------------------------------------------
    async def open_conversation(self) -> Conversation | None:
        return await open_conversation(self.session, self.person.id)

    async def goals(self) -> list[LearningGoal]:
        if self._goals is None:
            self._goals = await goals_of(self.session, self.person.id)
        return self._goals

    async def coordinators(self) -> list[Person]:
        if self._coordinators is None:
            self._coordinators = await coordinators_of(self.session, self.person)
        return self._coordinators

    def knowing(
        self,
        *,
        goals: list[LearningGoal] | None = None,
        coordinators: list[Person] | None = None,
        questions: dict[int, list[Question]] | None = None,
    ) -> Turn:
        """This turn, told what it would otherwise read: the goals and coordinators of its person
        and the questions of some of their conversations, read for many people at once."""
        if goals is not None:
            self._goals = goals
        if coordinators is not None:
            self._coordinators = coordinators
        self._questions_of.update(questions or {})
        return self

    async def questions(self, conversation: Conversation) -> list[Question]:
        """The conversation's questions in order, read once: advancing updates these rows."""
        assert conversation.id is not None
        if conversation.id not in self._questions_of:
            self._questions_of[conversation.id] = await questions_of(self.session, conversation.id)
        return self._questions_of[conversation.id]

    def questions_changed(self, conversation: Conversation) -> None:
        """Questions were added: the next `questions` reads them again."""
        if conversation.id is not None:
            self._questions_of.pop(conversation.id, None)
