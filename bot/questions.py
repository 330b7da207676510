"""The questions of a conversation as put to one person: made from the flow once, in their
language, with their learning goals and organisations filled in, spread over working days."""

from __future__ import annotations

from sqlalchemy import insert

from bot.flows import FLOWS, SCALE_CHOICES, FlowSpec, QuestionSpec
from bot.i18n import N_, format_day, format_moment
from bot.plan import calendar_for, final_date, midpoint_date
from bot.turn import Turn
from storage.conversations import answer_to
from storage.models import Conversation, LearningGoal, Organisation, Panel, Question, QuestionStatus


async def _org_name(turn: Turn, org_id: str | None) -> str:
    org = await turn.session.get(Organisation, org_id) if org_id else None
    return org.name if org else ""


async def texts_for(turn: Turn, conv: Conversation) -> dict[str, object]:
    """What the flow's texts quote: names, dates, the panel."""
    p, programme, language = turn.person, turn.programme, turn.language
    cal = await calendar_for(turn.session, p)
    # The day the midpoint's first question really comes: the host's first working day from
    # the calendar midpoint, not the midpoint itself (which may fall on a weekend).
    midpoint = cal.working_day_on_or_after(midpoint_date(p.start, p.end)) if p.start and p.end else None
    final = cal.working_day_on_or_after(final_date(p.end)) if p.end else None
    params: dict[str, object] = {
        "name": p.name,
        "programme": programme.name,
        "host": await _org_name(turn, p.host_organisation_id),
        "home": await _org_name(turn, p.home_organisation_id),
        "days": conv.group_count if FLOWS[conv.flow].spread_over_days else programme.reflection_days,
        "end": format_day(language, p.end) if p.end else "",
        "midpoint": format_day(language, midpoint) if midpoint else "",
        "final": format_day(language, final) if final else "",
        "coordinators": ", ".join(c.name for c in await turn.coordinators()),
        # A pairing check-in: the names of the others in the pair.
        "pair": (conv.context or {}).get("pair", ""),
    }
    if "months" in (conv.context or {}):
        params["months"] = (conv.context or {})["months"]
    panel_id = (conv.context or {}).get("panel_id")
    panel = await turn.session.get(Panel, panel_id) if panel_id else None
    if panel is not None:
        params.update(
            panel=panel.title,
            place=panel.place,
            when=format_moment(language, panel.at.astimezone(cal.zone)),
        )
    return params


async def create_questions(turn: Turn, conv: Conversation, flow: FlowSpec) -> None:
    rows = await question_rows(turn, conv, flow)
    # One statement for all of them.
    if rows:
        await turn.session.exec(insert(Question), params=rows)  # type: ignore[call-overload]
    turn.questions_changed(conv)


async def question_rows(turn: Turn, conv: Conversation, flow: FlowSpec) -> list[dict[str, object]]:
    """The conversation's questions, to be inserted, and how many days they take
    (`conv.group_count`)."""
    assert conv.id is not None
    goals = await turn.goals()
    items = _per_person(flow, goals)
    atoms = list(dict.fromkeys((spec.section, g.id if g and spec.per_goal else None) for spec, g in items))
    days = min(turn.programme.reflection_days, len(atoms)) if flow.spread_over_days and atoms else 1
    # Questions that belong together (an aha moment and its consent) stay on one day.
    atom_group = {atom: i * days // len(atoms) for i, atom in enumerate(atoms)} if atoms else {}
    conv.group_count = days
    params = await texts_for(turn, conv)
    rows: list[dict[str, object]] = []
    for position, (spec, goal) in enumerate(items):
        values = dict(params, goal=goal.text if goal else "")
        values.update({k: turn.t(v) for k, v in spec.params.items()})
        choices = [{"value": v, "label": turn.t(label)} for v, label in spec.choices] or None
        if spec.kind == "scale":
            choices = [{"value": v, "label": label} for v, label in SCALE_CHOICES]
        rows.append(
            {
                "conversation_id": conv.id,
                "person_id": turn.person.id,
                "position": position,
                "key": spec.key,
                "group": atom_group[(spec.section, goal.id if goal and spec.per_goal else None)],
                "kind": spec.kind,
                "goal_id": goal.id if goal else None,
                "text": turn.t(spec.text, **values),
                "choices": choices,
                "status": QuestionStatus.PENDING,
                "asked_at": None,
                "reminders_sent": 0,
                "reminded_at": None,
            }
        )
    return rows


def _per_person(flow: FlowSpec, goals: list[LearningGoal]) -> list[tuple[QuestionSpec, LearningGoal | None]]:
    """The flow's questions in the order they are asked. Consecutive per-goal questions of one
    section go goal by goal (a goal's rating, then why), not question by question."""
    items: list[tuple[QuestionSpec, LearningGoal | None]] = []
    specs = list(flow.questions)
    while specs:
        spec = specs.pop(0)
        if not spec.per_goal:
            items.append((spec, None))
            continue
        run = [spec]
        while specs and specs[0].per_goal and specs[0].section == spec.section:
            run.append(specs.pop(0))
        items.extend((s, g) for g in goals for s in run)
    return items


async def applies(turn: Turn, question: Question, conv: Conversation, questions: list[Question]) -> bool:
    """Whether a follow-up is called for by the answer it follows (any other question always is)."""
    spec = FLOWS[conv.flow].question(question.key)
    if spec.ask_if is None:
        return True
    source = next((q for q in questions if q.key == spec.ask_if.key), None)
    answer = await answer_to(turn.session, source.id) if source and source.id is not None else None
    if answer is None:
        return False
    return spec.ask_if.value is None or spec.ask_if.value in (answer.values or [])


QUOTED = N_("You wrote: “{quote}”\n{question}")
CHOSEN = N_("You chose: “{choice}”\n{question}")
QUOTE_LENGTH = 200


async def quote_what_it_follows(
    turn: Turn, question: Question, conv: Conversation, questions: list[Question]
) -> None:
    """A follow-up says what it is about: the words it follows (the consent for an aha moment or
    a takeaway) or the option chosen (what to tell the coordinator, after "yes, contact me"),
    quoted into the text as it is asked and stored."""
    spec = FLOWS[conv.flow].question(question.key)
    key = spec.consent_for or (spec.ask_if.key if spec.ask_if else None)
    source = next((q for q in questions if q.key == key), None) if key else None
    if source is None or source.kind not in ("text", "single"):
        return  # several options chosen: the follow-up names the one it is about
    answer = await answer_to(turn.session, source.id) if source and source.id is not None else None
    if answer is None or not answer.text.strip():
        return
    if source.kind == "single":
        labels = {c["value"]: c["label"] for c in source.choices or []}
        chosen = [labels.get(v, v) for v in answer.values or []]
        if chosen:
            question.text = turn.t(CHOSEN, choice="; ".join(chosen), question=question.text)
            turn.session.add(question)
        return
    quote = answer.text.strip()
    if len(quote) > QUOTE_LENGTH:
        quote = quote[: QUOTE_LENGTH - 1].rstrip() + "…"
    question.text = turn.t(QUOTED, quote=quote, question=question.text)
    turn.session.add(question)
