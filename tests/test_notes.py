"""No word thrown away: a message that answers no question is kept as the person's note, shown
to them (export, App Home) and to their coordinator (the digest), and forgotten on request."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.slack.home import home_view
from bot.home import home_for
from bot.i18n import Translator
from bot.plan import plan_for
from bot.privacy import export_person, forget_person
from bot.reports.digest import build_digest, render_text
from storage.models import Person
from tests.transcript import Transcript

NOTE = "The clinic ran out of oral rehydration salts today."


async def test_a_message_after_the_days_questions_is_kept_as_a_note(transcript: Transcript) -> None:
    t = transcript
    async with t.engine.store.session() as session:
        person = await session.get(Person, "tanvir")
        assert person is not None
        t.now = next(p.due_at for p in await plan_for(session, person) if p.flow == "midpoint")
    await t.start("tanvir", "midpoint")
    await t.send("tanvir", "Mothers' groups meet under the village tree.")
    await t.send("tanvir", "Cooking demonstrations teach more than leaflets.")
    await t.send("tanvir", "3")  # where he stands on his learning goal
    await t.send("tanvir", "Two villages trained, three to go.")
    assert "That is all for today" in t.unread("tanvir")[-1].text

    await t.send("tanvir", NOTE)
    reply = t.unread("tanvir")[-1].text
    assert "Kept as a note" in reply and "write now" in reply

    exported = await export_person(t.engine.store, "tanvir")
    assert [n["text"] for n in exported["notes"]] == [NOTE]
    assert NOTE not in [r["answer"] for r in exported["reflections"]]
    home = await home_for(t.engine.store, "tanvir", t.now)
    assert home is not None and home.notes == (NOTE,)
    # As Slack's App Home tab shows it.
    tab = json.dumps(home_view(home, Translator()), ensure_ascii=False)
    assert NOTE in tab and "Your notes" in tab
    digest = render_text(
        await build_digest(t.engine.store, "ingrid", t.now + timedelta(hours=1)), Translator(), "en"
    )
    assert "Notes they wrote" in digest
    assert any("Tanvir" in line and NOTE in line for line in digest.splitlines()), digest

    await forget_person(t.engine.store, "tanvir")
    assert (await export_person(t.engine.store, "tanvir"))["notes"] == []


async def test_a_message_between_conversations_is_kept_too(transcript: Transcript) -> None:
    t = transcript
    await t.send("tanvir", NOTE)
    assert "Kept as a note" in t.unread("tanvir")[-1].text
    assert [n["text"] for n in (await export_person(t.engine.store, "tanvir"))["notes"]] == [NOTE]


async def test_words_in_reply_to_a_scale_are_kept_and_the_question_still_waits(transcript: Transcript) -> None:
    """Tanvir answers the welcome's 1–5 question with words: they are his note, he is told so
    and what the question needs, and his number then answers it."""
    t = transcript
    async with t.engine.store.session() as session:
        person = await session.get(Person, "tanvir")
        assert person is not None
        t.now = next(p for p in await plan_for(session, person) if p.flow == "welcome").due_at
    await t.start("tanvir", "welcome")
    asked = t.unread("tanvir")[-1]
    assert asked.question_kind == "scale"
    words = "Hard to say before I have seen the groups."
    await t.send("tanvir", words)
    reply = t.unread("tanvir")[-1].text
    assert "kept your words as a note" in reply and "number from 1 to 5" in reply
    assert [n["text"] for n in (await export_person(t.engine.store, "tanvir"))["notes"]] == [words]
    await t.send("tanvir", "2")
    after = t.unread("tanvir")[-1]
    assert after.question_id != asked.question_id
    answered = (await export_person(t.engine.store, "tanvir"))["reflections"]
    assert [r["answer"] for r in answered] == ["2"]
