"""Slack payloads → what they mean for the bot, one recorded payload per branch of the table."""

from __future__ import annotations

import pytest

from adapters.slack.translate import PAYLOADS, FromSlack, plain_text, translate
from bot.actions import HOME_OPENED
from bot.messages import Incoming
from tests.fakes.slack_api import payload


def test_a_direct_message_is_a_reply_with_the_text_as_written() -> None:
    read = translate(payload("event_message_im"))
    assert read == FromSlack(
        "reply",
        "U0RINA0001",
        incoming=Incoming(
            "slack",
            "U0RINA0001",
            text="Women save 20 taka a week & the group lends at <2% > bank rates",
            event_id="Ev0RINA00001",
        ),
        channel="D0RINA0001",
        event_id="Ev0RINA00001",
    )


def test_links_mentions_and_channels_read_as_the_person_typed_them() -> None:
    read = translate(payload("event_message_links"))
    assert read is not None and read.incoming is not None
    assert read.incoming.text == "Asked @U0DAWA0001 about sahaj.example.org/savings, see #spring-panel @here"


@pytest.mark.parametrize("name", ["event_message_changed", "event_message_from_bot", "event_channel_join"])
def test_edits_bots_and_joins_are_ignored(name: str) -> None:
    assert translate(payload(name)) is None


def test_a_message_in_a_channel_is_ignored() -> None:
    body = payload("event_message_im")
    body["event"]["channel_type"] = "channel"
    assert translate(body) is None


def test_opening_the_home_tab_asks_for_the_home_view() -> None:
    assert translate(payload("event_app_home_opened")) == FromSlack(
        "home",
        "U0RINA0001",
        incoming=Incoming("slack", "U0RINA0001", action=HOME_OPENED, event_id="Ev0HOME00001"),
        event_id="Ev0HOME00001",
    )
    messages_tab = payload("event_app_home_opened")
    messages_tab["event"]["tab"] = "messages"
    assert translate(messages_tab) is None


def test_a_button_answers_the_question_it_belongs_to() -> None:
    read = translate(payload("block_actions_button"))
    assert read is not None
    assert read.incoming == Incoming(
        "slack",
        "U0RINA0001",
        question_id=42,
        values=("4",),
        event_id="action:U0RINA0001:1806400750.123456",
        # Once taken, the message that was clicked is updated to show the answer.
        show_answer=True,
        message_id="D0RINA0001:1806400700.000100",
    )
    assert read.message == "D0RINA0001:1806400700.000100"


def test_ticked_boxes_are_sent_with_the_send_button_and_a_tick_alone_does_nothing() -> None:
    read = translate(payload("block_actions_checkboxes_submit"))
    assert read is not None and read.incoming is not None
    assert (read.incoming.question_id, read.incoming.values) == (43, ("technical-competence", "innovation"))
    assert translate(payload("block_actions_checkbox_tick")) is None


def test_the_form_button_opens_the_form_for_its_question() -> None:
    read = translate(payload("block_actions_form_button"))
    assert read == FromSlack(
        "open_form",
        "U0RINA0001",
        question_id=41,
        trigger_id="7001234567893.1000000000001.3d4e5f60718293a4b5c6d7e8f90a1b2c",
        message="D0RINA0001:1806400720.000100",
        channel="D0RINA0001",
    )


def test_a_form_submission_answers_its_question_with_the_whole_text() -> None:
    read = translate(payload("view_submission"))
    assert read is not None
    assert read.incoming == Incoming(
        "slack",
        "U0RINA0001",
        text="The savings group meets every Friday after prayers.\nEach member keeps a passbook.",
        question_id=41,
        event_id="view:V0FORM00001:1806400780.Xa1b2c3d",
        show_answer=True,
        message_id="D0RINA0001:1806400720.000100",
    )
    assert read.message == "D0RINA0001:1806400720.000100"


@pytest.mark.parametrize(
    ("typed", "kind", "text"),
    [
        ("pause 2027-04-12", "reply", "pause 2027-04-12"),
        ("support I am unwell & tired", "reply", "support I am unwell & tired"),
        ("all-now", "reply", "all-now"),
        ("", "reply", "help"),
        ("dance", "reply", "help"),  # never taken as an answer
        ("export", "reply", "export"),  # the engine queues the export, as for any platform
        ("share Grandmothers decide", "reply", "share Grandmothers decide"),
    ],
)
def test_the_reflect_command(typed: str, kind: str, text: str | None) -> None:
    body = payload("slash_command")
    body["text"] = typed.replace("&", "&amp;")
    read = translate(body)
    assert read is not None and read.kind == kind
    if text is not None:
        assert read.incoming is not None
        assert (read.incoming.text, read.incoming.is_command) == (text, True)
        assert read.incoming.event_id == f"command:{body['trigger_id']}"


def test_unknown_payload_types_are_ignored() -> None:
    assert translate({"type": "shortcut", "user": {"id": "U0RINA0001"}}) is None
    assert set(PAYLOADS) == {"event_callback", "block_actions", "view_submission"}


def test_plain_text_unescapes_only_what_slack_escaped() -> None:
    assert plain_text("a &amp;lt; b") == "a &lt; b"
    assert plain_text("<mailto:rina@example.org|rina@example.org>") == "rina@example.org"
    assert plain_text(None) == ""
