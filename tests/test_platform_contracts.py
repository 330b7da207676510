"""What every platform must do alike, written once and run on the terminal, Slack and Teams
(tests/platform_drivers.py drives each through its real stack): a retry is stored once, someone
unknown gets a polite answer and nothing is stored, a 429 is retried after its Retry-After and the
message arrives once, export brings a person their data, a forgotten person is unknown from then
on, an answer is shown only once it is recorded, and a typed answer is the same as a clicked one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.privacy import export_person, forget_person
from tests.conftest import table_rows
from tests.platform_drivers import PLATFORMS, Driver, open_driver

OBSERVED = "Mothers' groups meet under the village tree."
STRANGER_ANSWER = "I do not know you yet"


@pytest.fixture(params=PLATFORMS)
async def platform(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Driver]:
    async with open_driver(request.param, tmp_path) as driver:
        yield driver


async def reflections(d: Driver) -> list[dict[str, Any]]:
    return list((await export_person(d.store, d.person_id))["reflections"])


async def test_a_retry_is_stored_once(platform: Driver) -> None:
    d = platform
    await d.start("midpoint")
    asked = len(d.received())
    await d.type(OBSERVED, event_id="retried-event-1")
    before = await table_rows(d.store)
    await d.retry()  # the platform did not hear our answer in time and sends it again
    assert await table_rows(d.store) == before
    await d.work()
    await d.retry()  # and again, after it was taken
    await d.work()
    assert [r["answer"] for r in await reflections(d)] == [OBSERVED]
    [question] = d.received()[asked:]  # the next question, once
    assert "Your learning goal" in question


async def test_someone_unknown_gets_a_polite_answer_and_nothing_is_stored(platform: Driver) -> None:
    d = platform
    before = await table_rows(d.store)
    await d.stranger_types("Hello, can I join?")
    [answer] = d.stranger_received()  # at once: nothing waits for the work loop
    assert STRANGER_ANSWER in answer
    await d.work()
    assert await table_rows(d.store) == before
    assert d.stranger_received() == [answer]


async def test_a_429_is_retried_after_retry_after_and_the_message_arrives_once(platform: Driver) -> None:
    d = platform
    await d.start("midpoint")
    asked = len(d.received())
    d.throttle_next_send(retry_after=30)
    await d.type(OBSERVED)
    await d.work()  # the next question is refused with Retry-After: 30
    assert d.received()[asked:] == []
    d.later(seconds=29)
    await d.type("help")  # what follows the waiting question waits behind it
    await d.work()
    assert d.received()[asked:] == []  # still waiting
    d.later(seconds=31)
    await d.work()
    await d.work()  # a second round finds nothing more to send
    [question, help_list] = d.received()[asked:]
    assert "Your learning goal" in question
    assert "What you can write at any time" in help_list


async def test_export_brings_the_person_their_own_data(platform: Driver) -> None:
    d = platform
    await d.start("midpoint")
    await d.type(OBSERVED)
    await d.work()
    await d.command("export")
    await d.work()
    data = d.exported()
    assert data is not None, "the export did not reach the person"
    assert data["person"] == d.person_id
    assert [r["answer"] for r in data["reflections"]] == [OBSERVED]
    assert [r["answer"] for r in await reflections(d)] == [OBSERVED]  # "export" was no answer


async def test_after_forget_the_person_is_unknown_and_nothing_new_is_stored(platform: Driver) -> None:
    d = platform
    await d.start("midpoint")
    await d.type(OBSERVED)
    await d.work()
    await forget_person(d.store, d.person_id)
    seen = len(d.received())
    before = await table_rows(d.store)
    await d.type("Are you still keeping what I write?")
    [answer] = d.received()[seen:]
    assert STRANGER_ANSWER in answer
    await d.work()
    assert await table_rows(d.store) == before
    assert len(d.received()) == seen + 1


async def test_an_answer_is_shown_only_once_it_is_recorded(platform: Driver) -> None:
    d = platform
    await d.start("midpoint")
    asked = len(d.received())
    await d.fill(OBSERVED)
    # The platform has had its answer; nothing is recorded or shown yet.
    assert await reflections(d) == [] and d.shown() == []
    assert d.received()[asked:] == []
    await d.work()
    assert [r["answer"] for r in await reflections(d)] == [OBSERVED]
    if d.shows_answers:
        [shown] = d.shown()
        assert f"Your answer: {OBSERVED}" in shown
    # A terminal changes nothing it printed: the answer typed is on screen, and only the next
    # question follows it.
    [question] = d.received()[asked:]
    assert "Your learning goal" in question


@pytest.mark.parametrize("how", ["typed", "clicked"])
async def test_a_typed_choice_and_a_clicked_one_store_the_same_answer(platform: Driver, how: str) -> None:
    d = platform
    await d.start("panel-prep")
    await d.type("Grandmothers decide what children eat.")
    await d.work()
    assert "May the panel hear this?" in d.received()[-1]
    if how == "typed":
        await d.type("2")  # the number of the second choice
    else:
        await d.click("Share anonymously")
    await d.work()
    consent = (await reflections(d))[-1]
    assert (consent["answer"], consent["values"]) == ("Share anonymously", ["anonymous"])
    moments = (await export_person(d.store, d.person_id))["aha_moments"]
    assert [(m["text"], m["consent"]) for m in moments] == [
        ("Grandmothers decide what children eat.", "anonymous")
    ]
