"""The conversation engine: start a flow for a person, take a reply, decide the next prompt.

Everything a conversation knows lives in storage; every message goes to the outbox in the same
transaction that changed the state, so a crash loses neither a reply nor a prompt.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.flows import FLOWS, SCALE_CHOICES, FlowSpec, QuestionSpec
from bot.i18n import N_, Translator, format_day, format_moment
from bot.messages import Choice, Incoming, Op, Outgoing
from bot.plan import Planned, calendar_for, midpoint_date, plan_for
from bot.replies import NotAnAnswer, Parsed, parse_answer
from storage import inbox
from storage.db import Store
from storage.models import (
    AhaMoment,
    Answer,
    ChatIdentity,
    Conversation,
    CoordinatorPartnership,
    LearningGoal,
    Organisation,
    Panel,
    Person,
    PersonGoal,
    Programme,
    Question,
    SupportRequest,
)
from storage.outbox import enqueue, insert_once

logger = logging.getLogger(__name__)

UNKNOWN_PERSON = N_(
    "Hello! I do not know you yet, so I have not kept anything you wrote. If you are on an "
    "exchange programme, please ask your coordinator to add you."
)
REMINDER = N_("A gentle reminder, when you have a moment:\n{question}")
HINTS = {
    "text": N_("Write your answer · skip: leave this one out · help: more"),
    "single": N_("Reply with the number of your choice."),
    "multi": N_("Reply with one or more numbers, for example 1,3."),
    "scale": N_("Reply with a number from 1 to 5."),
}


class Engine:
    def __init__(self, store: Store, translator: Translator | None = None) -> None:
        self.store = store
        self.translator = translator or Translator()

    async def handle(self, incoming: Incoming, now: datetime) -> list[Outgoing]:
        """Take a reply at once: `accept` it, then `take_waiting` (the terminal, Teams, tests).

        Returns messages to send at once without storing them: only the answer to someone the
        programme does not know, for whom nothing is kept.
        """
        replies = await self.accept(incoming, now)
        await self.take_waiting(now)
        return replies

    async def accept(self, incoming: Incoming, now: datetime) -> list[Outgoing]:
        """Keep what a person sent, as it is, in the inbox, in one statement, so the platform can
        be answered at once and nothing is lost if the process dies after that. A platform's
        retry of the same event id is a no-op. `take_waiting` then does the work.

        Returns the answer to someone the programme does not know (nothing of theirs is stored).
        """
        kept = await inbox.keep(
            self.store,
            platform=incoming.platform,
            user_id=incoming.user_id,
            event_id=incoming.event_id or f"local:{uuid.uuid4()}",
            payload=incoming.to_json(),
            now=now,
            by_identity=incoming.platform != "console",
        )
        if kept:
            return []
        async with self.store.session() as session:
            known = await find_person(session, incoming.platform, incoming.user_id) is not None
        if known:
            logger.info("event %s/%s already taken; ignored", incoming.platform, incoming.event_id)
            return []
        return [Outgoing(person_id="", text=self.translator.gettext("en", UNKNOWN_PERSON), always=True)]

    async def take_waiting(
        self, now: datetime, pause: Callable[[], Awaitable[None]] | None = None, limit: int | None = None
    ) -> int:
        """Take the replies waiting in the inbox (all, or up to `limit`), oldest first; returns how
        many it dealt with.

        Each is taken in one transaction with all it writes (the answer, the next prompt in the
        outbox), as of the moment it arrived, so a crash part-way repeats or loses nothing.
        `pause` is awaited before each one: the server uses it to let the platforms' requests go
        first, since they must be answered within seconds and this can wait.
        """
        taken = 0
        while limit is None or taken < limit:
            if pause is not None:
                await pause()
            if not await self._take_oldest(now):
                break
            taken += 1
        return taken

    async def _take_oldest(self, now: datetime) -> bool:
        """Deal with the oldest waiting reply (take it, or count a failed attempt); False when
        nothing waits."""
        row_id: int | None = None
        try:
            async with self.store.session() as session:
                row = await inbox.oldest_waiting(session)
                if row is None:
                    return False
                row_id, event_id, received_at = row.id, row.event_id, row.received_at
                assert row_id is not None and row.payload is not None
                incoming = Incoming.from_json(row.payload)  # before mark_taken empties it
                # Lock the person first (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the
                # database): another process taking their next reply waits for this one.
                person = (
                    await session.exec(select(Person).where(Person.id == row.person_id).with_for_update())
                ).first()
                if not await inbox.mark_taken(session, row_id, now):
                    return True  # another process took it meanwhile
                if person is None or person.forgotten:
                    return True
                turn = await Turn.begin(self, session, person, received_at)
                await turn.take(incoming)
                if incoming.show_answer:
                    for question_id in dict.fromkeys(turn.answered):
                        await turn.send(
                            Outgoing(
                                person_id=person.id,
                                text="",
                                language=turn.language,
                                question_id=question_id,
                                always=True,
                                op=Op.SHOW_ANSWER,
                                shown_in=incoming.message_id if question_id == incoming.question_id else None,
                            ),
                            f"show-answer:{incoming.platform}:{event_id}:{question_id}",
                        )
                return True
        except Exception as exc:
            if row_id is None:
                raise
            # Only the type: a database error's message may quote what the person wrote.
            async with self.store.session() as session:
                status = await inbox.mark_failed(session, row_id, type(exc).__name__)
            logger.error(
                "inbox: reply %s not taken (%s); now %s\n%s",
                row_id,
                type(exc).__name__,
                status,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return True

    async def start(self, person_id: str, planned: Planned, now: datetime) -> Conversation | None:
        async with self.store.session() as session:
            person = await session.get(Person, person_id)
            if person is None or person.forgotten:
                return None
            turn = await Turn.begin(self, session, person, now)
            return await turn.start(planned)

    async def start_next(self, person_id: str, now: datetime) -> Conversation | None:
        """Continue the open conversation now, or start the person's next planned one early."""
        async with self.store.session() as session:
            person = await session.get(Person, person_id)
            if person is None or person.forgotten:
                return None
            turn = await Turn.begin(self, session, person, now)
            return await turn.continue_now()

    async def open_next_group(self, conversation_id: int, now: datetime) -> None:
        async with self.store.session() as session:
            conv = await session.get(Conversation, conversation_id)
            if conv is None or conv.status != "open" or conv.current_question_id is not None:
                return
            person = await session.get(Person, conv.person_id)
            assert person is not None
            turn = await Turn.begin(self, session, person, now)
            await turn.next_group(conv)


async def find_person(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    if platform == "console":
        person = await session.get(Person, user_id)
    else:
        person = (
            await session.exec(
                select(Person)
                .join(ChatIdentity, col(ChatIdentity.person_id) == Person.id)
                .where(ChatIdentity.platform == platform, ChatIdentity.external_id == user_id)
            )
        ).first()
    return None if person is None or person.forgotten else person


class Turn:
    """One unit of work for one person inside one transaction."""

    def __init__(
        self, engine: Engine, session: AsyncSession, person: Person, programme: Programme, now: datetime
    ) -> None:
        self.engine, self.session, self.person, self.programme, self.now = (
            engine,
            session,
            person,
            programme,
            now,
        )
        self.language = person.language or programme.language
        # Read once per turn: the same row objects, which the turn itself updates in place.
        self._goals: list[LearningGoal] | None = None
        self._questions_of: dict[int, list[Question]] = {}
        # Questions this turn stored an answer to, in order: the platform may show each one.
        self.answered: list[int] = []

    @classmethod
    async def begin(cls, engine: Engine, session: AsyncSession, person: Person, now: datetime) -> Turn:
        programme = await session.get(Programme, person.programme_id)
        assert programme is not None
        return cls(engine, session, person, programme, now)

    # -- messages -------------------------------------------------------------------------
    def t(self, message: str, **values: object) -> str:
        return self.engine.translator.gettext(self.language, message, **values)

    async def say(
        self, message: str, key: str | None = None, conversation: Conversation | None = None, **values: object
    ) -> None:
        """A notice to this person, in their language. Replies to their own commands carry no key."""
        out = Outgoing(
            person_id=self.person.id,
            text=self.t(message, **values),
            language=self.language,
            always=key is None,
        )
        await self.send(out, key or f"reply:{uuid.uuid4()}", conversation)

    async def send(
        self,
        out: Outgoing,
        key: str,
        conversation: Conversation | None = None,
        question: Question | None = None,
    ) -> None:
        await enqueue(
            self.session,
            key=key,
            person_id=out.person_id,
            payload=out.to_json(),
            now=self.now,
            conversation_id=conversation.id if conversation else None,
            question_id=question.id if question else None,
            about_person_id=self.person.id if out.person_id != self.person.id else None,
        )

    # -- conversations --------------------------------------------------------------------
    async def open_conversation(self) -> Conversation | None:
        return (
            await self.session.exec(
                select(Conversation).where(
                    Conversation.person_id == self.person.id, Conversation.status == "open"
                )
            )
        ).first()

    async def start(self, planned: Planned) -> Conversation:
        existing = await self._conversation_by_key(planned.key)
        if existing is not None:
            return existing
        flow = FLOWS[planned.flow]
        created = await insert_once(
            self.session,
            Conversation,
            {
                "key": planned.key,
                "person_id": self.person.id,
                "flow": flow.id,
                "status": "pending",
                "group": 0,
                "group_count": 1,
                "all_now": False,
                "created_at": self.now,
                "expires_at": planned.expires_at,
                "context": planned.context,
            },
            ["key"],
        )
        conv = await self._conversation_by_key(planned.key)
        assert conv is not None
        if not created:
            return conv  # another process created it between our look and our insert
        await self._create_questions(conv, flow)
        logger.info("conversation %s (%s) created for %s", conv.id, flow.id, self.person.id)
        if await self.open_conversation() is None:
            await self._open(conv)
        return conv

    async def continue_now(self) -> Conversation | None:
        conv = await self.open_conversation()
        if conv is not None:
            if conv.current_question_id is None:
                await self.next_group(conv)
            else:
                question = await self.session.get(Question, conv.current_question_id)
                assert question is not None
                await self.ask(question, conv, again=True)
            return conv
        for planned in await plan_for(self.session, self.person):
            if planned.expires_at is not None and planned.expires_at <= self.now:
                continue
            if await self._conversation_by_key(planned.key) is None:
                conv = await self.start(planned)
                if conv.status == "open":
                    return conv
        return None

    async def _conversation_by_key(self, key: str) -> Conversation | None:
        return (await self.session.exec(select(Conversation).where(Conversation.key == key))).first()

    async def goals(self) -> list[LearningGoal]:
        if self._goals is None:
            rows = await self.session.exec(
                select(LearningGoal)
                .join(PersonGoal, col(PersonGoal.goal_id) == LearningGoal.id)
                .where(PersonGoal.person_id == self.person.id)
                .order_by(col(PersonGoal.position))
            )
            self._goals = list(rows.all())
        return self._goals

    async def _org_name(self, org_id: str | None) -> str:
        org = await self.session.get(Organisation, org_id) if org_id else None
        return org.name if org else ""

    async def _params(self, conv: Conversation) -> dict[str, object]:
        p = self.person
        params: dict[str, object] = {
            "name": p.name,
            "programme": self.programme.name,
            "host": await self._org_name(p.host_organisation_id),
            "home": await self._org_name(p.home_organisation_id),
            "days": conv.group_count if FLOWS[conv.flow].spread_over_days else self.programme.reflection_days,
            "end": format_day(self.language, p.end) if p.end else "",
            "midpoint": format_day(self.language, midpoint_date(p.start, p.end)) if p.start and p.end else "",
            "coordinators": ", ".join(c.name for c in await coordinators_of(self.session, p)),
        }
        panel_id = (conv.context or {}).get("panel_id")
        panel = await self.session.get(Panel, panel_id) if panel_id else None
        if panel is not None:
            cal = await calendar_for(self.session, p)
            params.update(
                panel=panel.title,
                place=panel.place,
                when=format_moment(self.language, panel.at.astimezone(cal.zone)),
            )
        return params

    async def _create_questions(self, conv: Conversation, flow: FlowSpec) -> None:
        goals = await self.goals()
        items: list[tuple[QuestionSpec, LearningGoal | None]] = []
        for spec in flow.questions:
            items.extend((spec, g) for g in goals) if spec.per_goal else items.append((spec, None))
        atoms = list(
            dict.fromkeys((spec.section, g.id if g and spec.per_goal else None) for spec, g in items)
        )
        days = min(self.programme.reflection_days, len(atoms)) if flow.spread_over_days and atoms else 1
        # Questions that belong together (an aha moment and its consent) stay on one day.
        atom_group = {atom: i * days // len(atoms) for i, atom in enumerate(atoms)} if atoms else {}
        conv.group_count = days
        params = await self._params(conv)
        for position, (spec, goal) in enumerate(items):
            values = dict(params, goal=goal.text if goal else "")
            values.update({k: self.t(v) for k, v in spec.params.items()})
            choices = [{"value": v, "label": self.t(label)} for v, label in spec.choices] or None
            if spec.kind == "scale":
                choices = [{"value": v, "label": label} for v, label in SCALE_CHOICES]
            self.session.add(
                Question(
                    conversation_id=conv.id,
                    person_id=self.person.id,
                    position=position,
                    key=spec.key,
                    group=atom_group[(spec.section, goal.id if goal and spec.per_goal else None)],
                    kind=spec.kind,
                    goal_id=goal.id if goal else None,
                    text=self.t(spec.text, **values),
                    choices=choices,
                )
            )
        await self.session.flush()
        self._questions_of.pop(conv.id, None)  # type: ignore[arg-type]

    async def _open(self, conv: Conversation) -> None:
        flow = FLOWS[conv.flow]
        conv.status, conv.started_at = "open", self.now
        self.session.add(conv)
        if flow.intro:
            await self.say(flow.intro, key=f"intro:{conv.id}", conversation=conv, **await self._params(conv))
        logger.info("conversation %s (%s) opened for %s", conv.id, conv.flow, self.person.id)
        await self.advance(conv)

    async def _questions(self, conv: Conversation) -> list[Question]:
        assert conv.id is not None
        if conv.id not in self._questions_of:
            rows = await self.session.exec(
                select(Question).where(Question.conversation_id == conv.id).order_by(col(Question.position))
            )
            self._questions_of[conv.id] = list(rows.all())
        return self._questions_of[conv.id]

    async def _applies(self, question: Question, conv: Conversation, questions: list[Question]) -> bool:
        spec = FLOWS[conv.flow].question(question.key)
        if spec.ask_if is None:
            return True
        source = next((q for q in questions if q.key == spec.ask_if.key), None)
        answer = await self.answer_of(source) if source else None
        if answer is None:
            return False
        return spec.ask_if.value is None or spec.ask_if.value in (answer.values or [])

    async def answer_of(self, question: Question) -> Answer | None:
        return (await self.session.exec(select(Answer).where(Answer.question_id == question.id))).first()

    async def advance(self, conv: Conversation) -> None:
        """Ask the next question of today's group; at its end wait for the next working day."""
        questions = await self._questions(conv)
        while True:
            pending = [q for q in questions if q.status == "pending"]
            today = [q for q in pending if q.group <= conv.group]
            if today:
                question = today[0]
                if not await self._applies(question, conv, questions):
                    question.status = "not_applicable"
                    self.session.add(question)
                    continue
                await self.ask(question, conv)
                return
            if not pending:
                await self.finish(conv)
                return
            if conv.all_now:
                conv.group = min(q.group for q in pending)
                continue
            cal = await calendar_for(self.session, self.person)
            conv.current_question_id = None
            conv.next_group_at = cal.next_prompt_after(self.now)
            self.session.add(conv)
            await self.say(
                N_(
                    "Thank you! That is all for today. Your next questions come on {when}. Write now to continue at once."
                ),
                key=f"day-done:{conv.id}:{conv.group}",
                conversation=conv,
                when=format_moment(self.language, conv.next_group_at.astimezone(cal.zone)),
            )
            return

    async def next_group(self, conv: Conversation) -> None:
        pending = [q for q in await self._questions(conv) if q.status == "pending"]
        if pending:
            conv.group = min(q.group for q in pending)
        conv.next_group_at = None
        self.session.add(conv)
        await self.advance(conv)

    async def finish(self, conv: Conversation) -> None:
        conv.status, conv.finished_at, conv.current_question_id = "done", self.now, None
        self.session.add(conv)
        flow = FLOWS[conv.flow]
        if flow.outro:
            await self.say(flow.outro, key=f"outro:{conv.id}", conversation=conv)
        logger.info("conversation %s (%s) done for %s", conv.id, conv.flow, self.person.id)
        await self.session.flush()
        await self.open_next_pending()

    async def open_next_pending(self) -> None:
        """One conversation at a time: the next one that fell due meanwhile starts now."""
        rows = await self.session.exec(
            select(Conversation)
            .where(Conversation.person_id == self.person.id, Conversation.status == "pending")
            .order_by(col(Conversation.created_at), col(Conversation.id))
        )
        for conv in rows.all():
            if conv.expires_at is not None and conv.expires_at <= self.now:
                conv.status, conv.finished_at = "expired", self.now
                self.session.add(conv)
                continue
            await self._open(conv)
            return

    async def render(self, question: Question, conv: Conversation) -> Outgoing:
        flow = FLOWS[conv.flow]
        questions = [q for q in await self._questions(conv) if _counts(q, flow)]
        number = next((i + 1 for i, q in enumerate(questions) if q.id == question.id), len(questions))
        goals = await self.goals()
        goal = next((g.text for g in goals if g.id == question.goal_id), None)
        title = self.t(flow.title)
        return Outgoing(
            person_id=self.person.id,
            text=question.text,
            kind="question",
            language=self.language,
            flow=flow.id,
            flow_title=title,
            question_id=question.id,
            question_kind=question.kind,  # type: ignore[arg-type]
            goal=goal,
            goals=tuple(g.text for g in goals),
            choices=tuple(Choice(c["value"], c["label"]) for c in question.choices or []),
            progress=(number, len(questions)),
            progress_label=self.t(
                N_("{flow} · {number} of {total}"), flow=title, number=number, total=len(questions)
            ),
            hint=self.t(HINTS.get(question.kind, HINTS["text"])),
        )

    async def ask(self, question: Question, conv: Conversation, again: bool = False) -> None:
        if question.status == "pending":
            question.status, question.asked_at = "asked", self.now
        conv.current_question_id = question.id
        self.session.add_all([question, conv])
        key = f"ask:{question.id}:{uuid.uuid4()}" if again else f"ask:{question.id}"
        await self.send(await self.render(question, conv), key, conv, question)

    async def remind(self, question: Question, conv: Conversation, number: int) -> None:
        """The question again, tagged with itself so a click on the reminder answers it."""
        out = await self.render(question, conv)
        reminder = replace(out, text=self.t(REMINDER, question=out.text))
        await self.send(reminder, f"remind:{question.id}:{number}", conv, question)

    # -- replies --------------------------------------------------------------------------
    async def take(self, incoming: Incoming) -> None:
        from bot.actions import run_action
        from bot.commands import parse_command, run_command

        if incoming.action is not None:
            await run_action(self, incoming.action)
            return
        if incoming.question_id is not None:
            await self.take_tagged(incoming)
            return
        text = (incoming.text or "").strip()
        command = parse_command(text, explicit=incoming.is_command)
        if command is not None:
            await run_command(self, command)
            return
        action = self.person.pending_action
        if action:
            await self.take_pending_action(action, text, incoming.platform)
            return
        conv = await self.open_conversation()
        question = (
            await self.session.get(Question, conv.current_question_id)
            if conv and conv.current_question_id
            else None
        )
        if conv is None or question is None:
            await self.nothing_to_answer(conv)
            return
        await self.answer_and_advance(question, conv, text, None, incoming.platform)

    async def nothing_to_answer(self, conv: Conversation | None) -> None:
        if conv is not None and conv.next_group_at is not None:
            cal = await calendar_for(self.session, self.person)
            await self.say(
                N_("Thank you! Your next questions come on {when}. Write now to continue at once."),
                when=format_moment(self.language, conv.next_group_at.astimezone(cal.zone)),
            )
        else:
            await self.say(
                N_(
                    "There is nothing to answer right now. Write now to start your next reflection early, or help to see what you can do."
                )
            )

    async def answer_and_advance(
        self,
        question: Question,
        conv: Conversation,
        text: str | None,
        values: tuple[str, ...] | None,
        platform: str,
    ) -> None:
        try:
            parsed = parse_answer(question.kind, question.choices, text, values)
        except NotAnAnswer as exc:
            await self.say(exc.hint)
            return
        await self.store_answer(question, conv, parsed, platform)
        if conv.status == "open" and conv.current_question_id == question.id:
            await self.advance(conv)

    async def take_tagged(self, incoming: Incoming) -> None:
        question = await self.session.get(Question, incoming.question_id)
        if question is None or question.person_id != self.person.id:
            await self.say(
                N_("I could not match that to one of your questions. Write status to see where we are.")
            )
            return
        if question.status in ("pending", "not_applicable"):
            await self.say(N_("That question has not been asked yet."))
            return
        conv = await self.session.get(Conversation, question.conversation_id)
        assert conv is not None
        if self.person.pending_action and self.person.pending_action.get("question_id") == question.id:
            self.person.pending_action = None
            self.session.add(self.person)
        current = conv.status == "open" and conv.current_question_id == question.id
        if current:
            await self.answer_and_advance(question, conv, incoming.text, incoming.values, incoming.platform)
            return
        try:
            parsed = parse_answer(question.kind, question.choices, incoming.text, incoming.values)
        except NotAnAnswer as exc:
            await self.say(exc.hint)
            return
        await self.store_answer(question, conv, parsed, incoming.platform)
        await self.say(
            N_("Noted: your answer to “{question}” is now: {answer}"),
            question=question.text,
            answer=parsed.text,
        )

    async def take_pending_action(self, action: dict[str, object], text: str, platform: str) -> None:
        from bot.commands import keep_shared_aha, send_support_request

        self.person.pending_action = None
        self.session.add(self.person)
        if text.casefold() in ("cancel", self.t(N_("cancel")).casefold()):
            await self.say(N_("Cancelled."))
            return
        if action.get("action") == "support":
            await send_support_request(self, text, None)
        elif action.get("action") == "share":
            await keep_shared_aha(self, text)
        elif action.get("action") == "correct":
            question = await self.session.get(Question, action.get("question_id"))
            if question is None:
                return
            conv = await self.session.get(Conversation, question.conversation_id)
            assert conv is not None
            try:
                parsed = parse_answer(question.kind, question.choices, text, None)
            except NotAnAnswer as exc:
                self.person.pending_action = action
                await self.say(exc.hint)
                return
            await self.store_answer(question, conv, parsed, platform)
            await self.say(
                N_("Noted: your answer to “{question}” is now: {answer}"),
                question=question.text,
                answer=parsed.text,
            )
            await self.repeat_current()

    async def repeat_current(self) -> None:
        conv = await self.open_conversation()
        if conv is not None and conv.current_question_id is not None:
            question = await self.session.get(Question, conv.current_question_id)
            assert question is not None
            await self.ask(question, conv, again=True)

    async def store_answer(
        self, question: Question, conv: Conversation, parsed: Parsed, platform: str
    ) -> None:
        answer = await self.answer_of(question)
        first = answer is None
        if answer is None:
            answer = Answer(
                question_id=question.id,
                person_id=self.person.id,
                goal_id=question.goal_id,  # type: ignore[arg-type]
                text=parsed.text,
                values=list(parsed.values) if parsed.values else None,
                answered_at=self.now,
                platform=platform,
            )
        else:
            answer.text, answer.corrected_at = parsed.text, self.now
            answer.values = list(parsed.values) if parsed.values else None
        question.status = "answered"
        self.session.add_all([answer, question])
        assert question.id is not None
        self.answered.append(question.id)
        logger.info("answer stored: person %s question %s (%s)", self.person.id, question.id, question.key)
        spec = FLOWS[conv.flow].question(question.key)
        if spec.records:
            await self._record_aha(question, conv, spec, parsed.text)
        if spec.consent_for and parsed.values:
            await self._set_consent(conv, spec.consent_for, parsed.values[0])
        if spec.support_request and first:
            from bot.commands import send_support_request

            await send_support_request(self, parsed.text, conv)
        await self.session.flush()

    async def _record_aha(
        self, question: Question, conv: Conversation, spec: QuestionSpec, text: str
    ) -> None:
        aha = (await self.session.exec(select(AhaMoment).where(AhaMoment.question_id == question.id))).first()
        if aha is None:
            self.session.add(
                AhaMoment(
                    person_id=self.person.id,
                    question_id=question.id,
                    kind=spec.records or "aha",
                    panel_id=(conv.context or {}).get("panel_id"),
                    text=text,
                    created_at=self.now,
                )
            )
        else:
            aha.text = text
            self.session.add(aha)

    async def _set_consent(self, conv: Conversation, key: str, consent: str) -> None:
        source = (
            await self.session.exec(
                select(Question).where(Question.conversation_id == conv.id, Question.key == key)
            )
        ).first()
        aha = (
            (await self.session.exec(select(AhaMoment).where(AhaMoment.question_id == source.id))).first()
            if source
            else None
        )
        if aha is not None:
            aha.consent = consent
            self.session.add(aha)


def _counts(question: Question, flow: FlowSpec) -> bool:
    """Whether a question counts in "2 of 8": a follow-up that depends on a particular choice
    (support details, one sentence per outcome) counts only once it is asked."""
    if question.status == "not_applicable":
        return False
    ask_if = flow.question(question.key).ask_if
    return ask_if is None or ask_if.value is None or question.status != "pending"


async def coordinators_of(session: AsyncSession, person: Person) -> list[Person]:
    if not person.partnership_id:
        return []
    rows = await session.exec(
        select(Person)
        .join(CoordinatorPartnership, col(CoordinatorPartnership.person_id) == Person.id)
        .where(CoordinatorPartnership.partnership_id == person.partnership_id, Person.forgotten == False)  # noqa: E712
        .order_by(col(Person.id))
    )
    return list(rows.all())


async def record_support(
    session: AsyncSession, person: Person, text: str, conv: Conversation | None, now: datetime
) -> SupportRequest:
    request = SupportRequest(
        person_id=person.id, conversation_id=conv.id if conv else None, text=text, created_at=now
    )
    session.add(request)
    await session.flush()
    return request
