"""Every "n of m" a person or their coordinator sees comes from one count (bot.progress): the prompt
header shows the place of the question it asks, `status` and the digest how many are done, and the
total never changes while the conversation runs, however many follow-ups are skipped or not needed.

Each display has one helper returning the (n, m) it shows, so another display (the App Home, the
Teams card) joins the walk by adding a helper to DONE_DISPLAYS or ASKED_DISPLAYS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

import pytest

from adapters.slack.home import home_view
from bot.home import home_for
from bot.i18n import Translator
from bot.messages import Outgoing
from bot.progress import progress
from bot.reports.digest import build_digest, render_text
from storage.models import Question, QuestionStatus
from tests.test_engine_transcripts import due
from tests.transcript import Transcript

PERSON, COORDINATOR, NAME = "tanvir", "ingrid", "Tanvir Hossain"
# Tanvir has one learning goal: observations, learning, where he stands on the goal and why,
# achievements, next steps, opportunities, aha, its consent, support and the support note. The
# last two depend on earlier answers.
MIDPOINT_TOTAL = 11
# Outcomes, one sentence for each of the four outcomes, where he stands on the one goal and why,
# adopt.
FINAL_TOTAL = 8

Display = Callable[[Transcript], Awaitable[tuple[int, int] | None]]


def header_of(question: Outgoing) -> tuple[int, int]:
    """What the prompt shows ("Midpoint reflection · 2 of 9"), read from its text, and checked
    against the numbers the platforms render it from."""
    assert question.progress_label is not None
    match = re.search(r"(\d+) of (\d+)$", question.progress_label)
    assert match, question.progress_label
    shown = (int(match[1]), int(match[2]))
    assert question.progress == shown
    return shown


async def status_shows(t: Transcript) -> tuple[int, int] | None:
    await t.send(PERSON, "status")
    reply = t.unread(PERSON)[-1].text
    match = re.search(r": (\d+) of (\d+) questions answered\.", reply)
    return (int(match[1]), int(match[2])) if match else None


async def digest_shows(t: Transcript) -> tuple[int, int] | None:
    text = render_text(await build_digest(t.engine.store, COORDINATOR, t.now), Translator(), "en")
    match = re.search(rf"{NAME}: midpoint reflection in progress, (\d+) of (\d+) questions answered", text)
    return (int(match[1]), int(match[2])) if match else None


async def home_shows(t: Transcript) -> tuple[int, int] | None:
    """What the App Home tab shows under "Coming up", as Slack would render it now."""
    home = await home_for(t.engine.store, PERSON, t.now)
    assert home is not None
    text = json.dumps(home_view(home, Translator()), ensure_ascii=False)
    match = re.search(r": (\d+) of (\d+) questions answered\.", text)
    return (int(match[1]), int(match[2])) if match else None


# Displays that count the questions done; a prompt's header shows the place of the one it asks.
DONE_DISPLAYS: dict[str, Display] = {"status": status_shows, "digest": digest_shows, "app home": home_shows}


async def key_of(t: Transcript, question: Outgoing) -> str:
    async with t.engine.store.session() as session:
        row = await session.get(Question, question.question_id)
        assert row is not None
        return row.key


Step = tuple[str, int, dict[str, tuple[int, int] | None]]


async def walk(
    t: Transcript, flow: str, replies: dict[str, str], displays: dict[str, Display]
) -> tuple[list[Step], list[str]]:
    """Answer the conversation (all at once) with `replies` by question key; before each answer,
    what the header and each display show. Returns each step (key, place asked, what each display
    showed) and the messages after the last answer."""
    t.now = await due(t, PERSON, flow)
    await t.start(PERSON, flow)
    await t.send(PERSON, "all-now")
    steps = []
    while True:
        messages = t.unread(PERSON)
        asked = [m for m in messages if m.kind == "question"]
        if not asked:
            return steps, [m.text for m in messages]
        question = asked[-1]
        place, total = header_of(question)
        shown = {name: await display(t) for name, display in displays.items()}
        shown["header total"] = (total, total)
        key = await key_of(t, question)
        steps.append((key, place, shown))
        await t.send(PERSON, replies[key])


MIDPOINT_REPLIES = {
    "observations": "Mothers' groups meet under the village tree.",
    "learning": "Cooking demonstrations teach more than leaflets.",
    "goal_progress": "3",
    "goal_progress_why": "Two villages trained, three to go.",
    "achievements": "skip",
    "next_steps": "Visit the provincial office.",
    "opportunities": "A joint manual.",
}
FIRST_EIGHT = [
    ("observations", 1),
    ("learning", 2),
    ("goal_progress", 3),
    ("goal_progress_why", 4),
    ("achievements", 5),
    ("next_steps", 6),
    ("opportunities", 7),
    ("aha", 8),
]


@pytest.mark.parametrize(
    ("replies", "asked"),
    [
        pytest.param(
            # The aha moment is skipped, so its consent is not needed; the support note follows "yes".
            {"aha": "skip", "support": "2", "support_note": "My visa needs renewing."},
            # The consent not needed is passed, and counted: support is 10 of 11.
            [*FIRST_EIGHT, ("support", 10), ("support_note", 11)],
            id="consent-not-needed",
        ),
        pytest.param(
            # The consent follow-up is asked and skipped; "no" support needs no note.
            {"aha": "Grandmothers decide what children eat.", "aha_consent": "skip", "support": "1"},
            [*FIRST_EIGHT, ("aha_consent", 9), ("support", 10)],
            id="consent-skipped-note-not-needed",
        ),
    ],
)
async def test_header_status_and_digest_count_the_midpoint_alike(
    transcript: Transcript, replies: dict[str, str], asked: list[tuple[str, int]]
) -> None:
    t = transcript
    steps, closing = await walk(t, "midpoint", MIDPOINT_REPLIES | replies, DONE_DISPLAYS)
    assert [(key, place) for key, place, _shown in steps] == asked
    for key, place, shown in steps:
        # Every question before the one asked is done (answered, skipped or not needed).
        done = place - 1
        assert shown == {
            "status": (done, MIDPOINT_TOTAL),
            "digest": (done, MIDPOINT_TOTAL),
            "app home": (done, MIDPOINT_TOTAL),
            "header total": (MIDPOINT_TOTAL, MIDPOINT_TOTAL),
        }, key
    # Done: nothing is open any more, and the digest says so.
    assert "Your midpoint reflection is complete" in closing[-1]
    assert await status_shows(t) is None
    assert await digest_shows(t) is None
    assert await home_shows(t) is None


async def test_a_final_reflection_keeps_its_total_as_follow_ups_are_passed(transcript: Transcript) -> None:
    # Only innovation was brought: the three other outcome sentences are not needed, and the
    # innovation one is skipped.
    replies = {
        "outcomes": "4",
        "outcome_innovation": "skip",
        "goal_progress": "4",
        "goal_progress_why": "skip",
        "adopt": "Cooking demonstrations.",
    }
    steps, closing = await walk(transcript, "final", replies, {"status": status_shows, "app home": home_shows})
    assert [(key, place) for key, place, _shown in steps] == [
        ("outcomes", 1),
        ("outcome_innovation", 5),
        ("goal_progress", 6),
        ("goal_progress_why", 7),
        ("adopt", 8),
    ]
    for key, place, shown in steps:
        assert shown == {
            "status": (place - 1, FINAL_TOTAL),
            "app home": (place - 1, FINAL_TOTAL),
            "header total": (FINAL_TOTAL, FINAL_TOTAL),
        }, key
    assert "Safe travels home" in closing[-1]


def test_progress_counts_a_question_passed_as_not_needed_as_done() -> None:
    statuses = [
        QuestionStatus.ANSWERED,
        QuestionStatus.SKIPPED,
        QuestionStatus.NOT_APPLICABLE,
        QuestionStatus.ASKED,
        QuestionStatus.PENDING,
    ]
    questions = [
        Question(
            id=10 + i,
            conversation_id=1,
            person_id="p",
            position=i,
            key=f"q{i}",
            kind="text",
            text="",
            status=s,
        )
        for i, s in enumerate(statuses)
    ]
    where = progress(list(reversed(questions)), current=13)
    assert (where.number, where.done, where.total) == (4, 3, 5)
    # An earlier question shown again (`correct`) keeps its own place.
    assert progress(questions, current=10).number == 1
    # Without a question asked, the number is the next one's.
    assert progress(questions).number == 4
