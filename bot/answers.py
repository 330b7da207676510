"""Keeping what a person answers, and what an answer sets off: an aha moment kept for the panel,
the consent that goes with it, a support request to their coordinators."""

from __future__ import annotations

import logging

from bot.conversation import advance
from bot.flows import FLOWS, QuestionSpec
from bot.i18n import N_
from bot.replies import NotAnAnswer, Parsed, parse_answer
from bot.support import send_support_request
from bot.turn import Turn
from storage.conversations import answer_to, question_by_key
from storage.models import AhaMoment, Answer, Conversation, ConversationStatus, Question, QuestionStatus
from storage.moments import count_moments, moment_of_question, next_open_panel, next_panel_of
from storage.notes import keep_note

logger = logging.getLogger(__name__)

NOTED = N_("Noted: your answer to “{question}” is now: {answer}")
KEPT_WORDS = N_("I kept your words as a note (your coordinators see it in their digest). {hint}")


async def answer_and_advance(
    turn: Turn,
    question: Question,
    conv: Conversation,
    text: str | None,
    values: tuple[str, ...] | None,
    platform: str,
) -> None:
    """An answer to the question the conversation waits for; then the next question."""
    try:
        parsed = parse_answer(question.kind, question.choices, text, values)
    except NotAnAnswer as exc:
        if text and any(ch.isalpha() for ch in text):
            # Words that are not one of the options ("not sure yet, maybe 3") are still what
            # the person wrote: kept as their note, and the question waits for its answer.
            note = await keep_note(turn.session, turn.person.id, text.strip(), turn.now, platform)
            logger.info("note %s kept for %s: words in reply to question %s", note.id, turn.person.id, question.id)
            await turn.say(KEPT_WORDS, hint=turn.t(exc.hint))
            return
        await turn.say(exc.hint)
        return
    await store_answer(turn, question, conv, parsed, platform)
    if conv.status == ConversationStatus.OPEN and conv.current_question_id == question.id:
        await advance(turn, conv)


async def answer_again(
    turn: Turn,
    question: Question,
    conv: Conversation,
    text: str | None,
    values: tuple[str, ...] | None,
    platform: str,
) -> bool:
    """A new answer to a question asked before (a late click, a correction), said back to the
    person; the conversation stays where it is. False when the reply does not fit the question."""
    try:
        parsed = parse_answer(question.kind, question.choices, text, values)
    except NotAnAnswer as exc:
        await turn.say(exc.hint)
        return False
    await store_answer(turn, question, conv, parsed, platform)
    await turn.say(NOTED, question=question.text, answer=parsed.text)
    return True


async def store_answer(
    turn: Turn, question: Question, conv: Conversation, parsed: Parsed, platform: str
) -> None:
    assert question.id is not None
    answer = await answer_to(turn.session, question.id)
    first = answer is None
    if answer is None:
        answer = Answer(
            question_id=question.id,
            person_id=turn.person.id,
            goal_id=question.goal_id,
            key=question.key,
            conversation_id=question.conversation_id,
            flow=conv.flow,
            text=parsed.text,
            values=list(parsed.values) if parsed.values else None,
            answered_at=turn.now,
            platform=platform,
        )
    else:
        answer.text, answer.corrected_at = parsed.text, turn.now
        answer.values = list(parsed.values) if parsed.values else None
    question.status = QuestionStatus.ANSWERED
    conv.answered = True
    turn.session.add_all([answer, question, conv])
    turn.answered.append(question.id)
    logger.info("answer stored: person %s question %s (%s)", turn.person.id, question.id, question.key)
    spec = FLOWS[conv.flow].question(question.key)
    if spec.records:
        await _record_moment(turn, question, conv, spec, parsed.text)
    if spec.consent_for and parsed.values:
        await _set_consent(turn, conv, spec.consent_for, parsed.values[0])
    if spec.support_request and first:
        await send_support_request(turn, parsed.text, conv)
    await turn.session.flush()


async def _record_moment(
    turn: Turn, question: Question, conv: Conversation, spec: QuestionSpec, text: str
) -> None:
    assert question.id is not None
    aha = await moment_of_question(turn.session, question.id)
    if aha is None:
        panel_id = (conv.context or {}).get("panel_id")
        if conv.flow == "follow-up":
            # Back home, they present at no panel: what they share goes to the programme's next one.
            panel_id = await next_open_panel(turn.session, turn.person.programme_id, turn.now)
        turn.session.add(
            AhaMoment(
                person_id=turn.person.id,
                question_id=question.id,
                kind=spec.records or "aha",
                panel_id=panel_id,
                text=text,
                created_at=turn.now,
            )
        )
    else:
        aha.text = text
        turn.session.add(aha)


async def _set_consent(turn: Turn, conv: Conversation, key: str, consent: str) -> None:
    """The consent question's answer goes to the moment recorded by the question it follows."""
    assert conv.id is not None
    source = await question_by_key(turn.session, conv.id, key)
    aha = await moment_of_question(turn.session, source.id) if source and source.id is not None else None
    if aha is not None:
        aha.consent = consent
        turn.session.add(aha)


async def keep_shared_aha(turn: Turn, text: str) -> None:
    """An aha moment written outside any flow. It stays private until the person says otherwise."""
    turn.session.add(
        AhaMoment(
            person_id=turn.person.id,
            kind="aha",
            consent="private",
            panel_id=await next_panel_of(turn.session, turn.person.id, turn.now),
            text=text,
            created_at=turn.now,
        )
    )
    await turn.session.flush()
    await turn.say(
        N_(
            "Kept. The panel will not hear it unless you allow it: write {cmd_consent} {number} named or {cmd_consent} {number} anonymous."
        ),
        number=await count_moments(turn.session, turn.person.id),
    )
