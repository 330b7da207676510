"""What pairing says: the invitation to take part (asked, not enrolled), and the introduction of
each pair — why they were paired, in each one's language, and a first question to talk about.

Both go to the outbox keyed by round, pair and person, so writing one twice writes it once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.command_words import COMMAND_WORDS, PAIRING_OFF, PAIRING_ON, UNTIL, local_word
from bot.i18n import N_, NP_, Plural, Translator, format_day
from bot.messages import Action, Companion, Op, Outgoing
from bot.pairing_rounds import Pool, round_day
from storage.models import Person
from storage.outbox import enqueue
from storage.pairing_tables import PairingRound
from storage.pairs import StoredGroup

INTRODUCTION = N_(
    "Your pair until {until}: {others}. {why}\n"
    "A first question to talk about: {question}\n"
    "Work alongside each other when you can, and compare how each of you works."
)
GROUP_INTRODUCTION = N_(
    "{names}: you are a pair until {until}. {why}\n"
    "A first question to talk about: {question}\n"
    "Work alongside each other when you can, and compare how each of you works."
)
WHY: dict[str, str | Plural] = {
    "goal": N_("You share the learning goal “{goal}”."),
    "hours": NP_(
        "Your working hours overlap by {hours} hour a week.",
        "Your working hours overlap by {hours} hours a week.",
        "hours",
    ),
    "new": N_("You have not been paired before."),
    "again": N_("Everyone available has been your pair before, so you meet again."),
}
GOAL_QUESTION = N_("How does each of you work towards “{goal}”, and what would you do differently?")
GENERAL_QUESTION = N_(
    "What does a good working day look like for each of you, and what is done differently where you come from?"
)
OPT_OUT_NOTE = N_(
    "{programme} pairs people who are or have been on exchange with permanent colleagues, a new "
    "pair every {days} days. Write {off} to stop, or {pause} to take a break."
)
INVITATION = N_(
    "{programme} pairs people who are or have been on exchange with permanent colleagues, a new "
    "pair every {days} days: you work alongside each other and talk about how each of you works. "
    "A few days after each introduction I ask whether you met and what you noticed; your "
    "coordinators see that, the panel only what you agree to share.\n"
    "Would you like to take part? You can also write {on} or {off} at any time, or {pause}."
)
JOIN = N_("Yes, pair me")
DECLINE = N_("No, thank you")


def pairing_words(language: str, example: date | None = None) -> dict[str, str]:
    """`pairing on`, `pairing off` and `pairing pause until DATE` as the person writes them
    (DATE: `example`, or written as DATE)."""
    day = example.isoformat() if example else "DATE"
    pairing = local_word(language, COMMAND_WORDS["pairing"])
    pause = local_word(language, COMMAND_WORDS["pause"])
    until = local_word(language, UNTIL)
    return {
        "on": f"{pairing} {local_word(language, PAIRING_ON)}",
        "off": f"{pairing} {local_word(language, PAIRING_OFF)}",
        "pause": f"{pairing} {pause} {until} {day}",
    }


def language_of(pool: Pool, person: Person) -> str:
    return person.language or pool.programme.language


def pair_until(pool: Pool, stored_round: PairingRound) -> date:
    return min(round_day(pool.settings, stored_round.number + 1) - timedelta(days=1), pool.settings.ends)


def _why(translator: Translator, language: str, pool: Pool, group: StoredGroup) -> tuple[str, str]:
    pair = group.pair
    goal = pool.goal_texts.get(pair.goal_id or "", "")
    why = translator.gettext(language, WHY.get(pair.reason, WHY["new"]), goal=goal, hours=pair.overlap_hours)
    question = (
        translator.gettext(language, GOAL_QUESTION, goal=goal)
        if goal
        else translator.gettext(language, GENERAL_QUESTION)
    )
    return why, question


async def introduce(
    session: AsyncSession,
    translator: Translator,
    pool: Pool,
    stored_round: PairingRound,
    group: StoredGroup,
    person_id: str,
    now: datetime,
    paired_before: set[str],
) -> bool:
    """Write one member's introduction; False when it was written already. `paired_before`:
    who was in a pair in an earlier round (the others' first introduction explains pairing)."""
    person = pool.people.get(person_id)
    pair_id = group.pair.id
    if person is None or pair_id is None or stored_round.id is None:
        return False
    others = [pool.people[m] for m in group.members if m != person_id and m in pool.people]
    members = [pool.people[m] for m in group.members if m in pool.people]
    until = pair_until(pool, stored_round)
    language = language_of(pool, person)
    why, question = _why(translator, language, pool, group)
    text = translator.gettext(
        language,
        INTRODUCTION,
        until=format_day(language, until),
        others=", ".join(o.name for o in others),
        why=why,
        question=question,
    )
    # Opt-out: a person's first introduction says what pairing is and how to leave it.
    first_time = {m.id for m in members if pool.settings.ask == "opt-out" and m.id not in paired_before}
    example = until + timedelta(days=pool.settings.every_days * 2)
    if person_id in first_time:
        text += "\n" + _opt_out_note(translator, language, pool, example)
    languages = list(dict.fromkeys(language_of(pool, m) for m in members))
    parts = []
    for code in languages:
        why_there, question_there = _why(translator, code, pool, group)
        part = translator.gettext(
            code,
            GROUP_INTRODUCTION,
            names=", ".join(m.name for m in members),
            until=format_day(code, until),
            why=why_there,
            question=question_there,
        )
        if any(language_of(pool, m) == code for m in members if m.id in first_time):
            part += "\n" + _opt_out_note(translator, code, pool, example)
        parts.append(part)
    message = Outgoing(
        person_id=person_id,
        text=text,
        language=language,
        flow="pairing",
        op=Op.INTRODUCE,
        companions=tuple(Companion(o.id, o.name) for o in others),
        group_text="\n\n".join(parts),
    )
    return await enqueue(
        session,
        key=f"pair-intro:{stored_round.id}:{pair_id}:{person_id}",
        person_id=person_id,
        payload=message.to_json(),
        now=now,
    )


def _opt_out_note(translator: Translator, language: str, pool: Pool, example: date) -> str:
    words = pairing_words(language, example)
    return translator.gettext(
        language,
        OPT_OUT_NOTE,
        programme=pool.programme.name,
        days=pool.settings.every_days,
        off=words["off"],
        pause=words["pause"],
    )


async def invite(
    session: AsyncSession, translator: Translator, pool: Pool, person: Person, now: datetime
) -> bool:
    """The explanation and the question whether to take part, once per person."""
    language = language_of(pool, person)
    words = pairing_words(language, now.date() + timedelta(days=28))
    message = Outgoing(
        person_id=person.id,
        text=translator.gettext(
            language,
            INVITATION,
            programme=pool.programme.name,
            days=pool.settings.every_days,
            on=words["on"],
            off=words["off"],
            pause=words["pause"],
        ),
        language=language,
        flow="pairing",
        actions=(
            Action("pairing:on", translator.gettext(language, JOIN)),
            Action("pairing:off", translator.gettext(language, DECLINE)),
        ),
    )
    return await enqueue(
        session, key=f"pairing-invite:{person.id}", person_id=person.id, payload=message.to_json(), now=now
    )
