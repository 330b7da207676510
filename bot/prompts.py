"""A question as a prompt: rendered for the person with its flow, goal, choices, progress and hint,
asked (it becomes the question the conversation waits for), or asked again as a reminder."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from bot.flows import FLOWS
from bot.i18n import N_
from bot.messages import Choice, Outgoing, QuestionKind
from bot.progress import progress
from bot.turn import Turn
from storage.models import Conversation, Question, QuestionStatus

REMINDER = N_("A gentle reminder, when you have a moment:\n{question}")
HINTS = {
    "text": N_("Write your answer · {cmd_skip}: leave this one out · {cmd_help}: more"),
    "single": N_("Reply with the number of your choice."),
    "multi": N_("Reply with one or more numbers, for example 1,3."),
    "scale": N_("Reply with a number from 1 to 5."),
}


async def render(turn: Turn, question: Question, conv: Conversation) -> Outgoing:
    flow = FLOWS[conv.flow]
    where = progress(await turn.questions(conv), question.id)
    goals = await turn.goals()
    goal = next((g.text for g in goals if g.id == question.goal_id), None)
    title = turn.t(flow.title)
    return Outgoing(
        person_id=turn.person.id,
        text=question.text,
        kind="question",
        language=turn.language,
        flow=flow.id,
        flow_title=title,
        question_id=question.id,
        # Written from the flow's QuestionSpec.kind, which is a QuestionKind.
        question_kind=cast(QuestionKind, question.kind),
        goal=goal,
        goals=tuple(g.text for g in goals),
        choices=tuple(Choice(c["value"], c["label"]) for c in question.choices or []),
        progress=(where.number, where.total),
        progress_label=turn.t(
            N_("{flow} · {number} of {total}"), flow=title, number=where.number, total=where.total
        ),
        hint=turn.t(HINTS.get(question.kind, HINTS["text"])),
    )


async def ask(turn: Turn, question: Question, conv: Conversation, again: bool = False) -> None:
    if question.status == QuestionStatus.PENDING:
        question.status, question.asked_at = QuestionStatus.ASKED, turn.now
    conv.current_question_id = question.id
    turn.session.add_all([question, conv])
    key = turn.key(f"ask:{question.id}") if again else f"ask:{question.id}"
    await turn.send(await render(turn, question, conv), key, conv, question)


async def remind(turn: Turn, question: Question, conv: Conversation, number: int) -> None:
    """The question again, tagged with itself so a click on the reminder answers it."""
    out = await render(turn, question, conv)
    reminder = replace(out, text=turn.t(REMINDER, question=out.text))
    await turn.send(reminder, f"remind:{question.id}:{number}", conv, question)
