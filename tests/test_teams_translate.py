"""Teams activities → the bot's events, one recorded payload per branch of the dispatch table."""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity

from adapters.teams.translate import (
    Installed,
    Said,
    Uninstalled,
    plain_text,
    tenant_id,
    translate,
)
from bot.command_parser import parse_command
from bot.messages import Incoming
from tests.fakes.teams_connector import TANVIR_AAD, TENANT, recorded


def activity(name: str, **overrides: object) -> Activity:
    data = recorded(name)
    data.update(overrides)
    return Activity().deserialize(data)


@pytest.mark.parametrize("name", ["conversation_update_install", "installation_update_add"])
def test_installing_the_app_is_an_installation_of_the_aad_user(name: str) -> None:
    assert translate(activity(name)) == Installed(TANVIR_AAD)


@pytest.mark.parametrize("name", ["installation_update_remove", "conversation_update_bot_removed"])
def test_removing_the_app_is_an_uninstallation(name: str) -> None:
    assert translate(activity(name)) == Uninstalled(TANVIR_AAD)


def test_a_text_message_is_text_with_the_activity_id_as_event_id() -> None:
    assert translate(activity("message_text")) == Said(
        Incoming(
            "teams",
            TANVIR_AAD,
            text="Mothers' groups meet under the village tree.",
            event_id="1816472365123",
            show_answer=True,  # the card it answers changes to show the answer
        )
    )


def test_a_formatted_message_keeps_the_words_and_line_breaks() -> None:
    event = translate(activity("message_html"))
    assert isinstance(event, Said)
    assert event.incoming.text == (
        "Cooking demonstrations teach more than leaflets.\nFathers came & asked questions.\nNext time: recipes."
    )


def test_a_mention_of_the_bot_is_not_part_of_the_text() -> None:
    assert plain_text("<at>reflectbot</at> skip") == "skip"


def test_a_choice_button_answers_the_question_of_its_card() -> None:
    event = translate(activity("submit_choice"))
    assert event == Said(
        Incoming(
            "teams",
            TANVIR_AAD,
            question_id=7,
            values=("2",),
            event_id="1816472366001",
            show_answer=True,
            message_id="1000000000004",  # the card's own message (the submission's replyToId)
        )
    )


def test_the_card_form_answers_its_question_with_the_text_written() -> None:
    event = translate(activity("submit_text"))
    assert event == Said(
        Incoming(
            "teams",
            TANVIR_AAD,
            text="Cooking demonstrations teach more than leaflets.",
            question_id=2,
            event_id="1816472366002",
            show_answer=True,
            message_id="1000000000002",
        )
    )


def test_a_multiple_choice_form_gives_every_value_chosen() -> None:
    event = translate(activity("submit_multi"))
    assert isinstance(event, Said)
    assert (event.incoming.question_id, event.incoming.values) == (9, ("opportunity", "network"))


def test_a_button_that_is_not_an_answer_comes_back_as_its_action() -> None:
    event = translate(activity("submit_action"))
    assert event == Said(
        Incoming("teams", TANVIR_AAD, action="support-handled:3", event_id="1816472366004", show_answer=True)
    )


def test_a_submission_without_a_question_is_ignored() -> None:
    assert translate(activity("submit_choice", value={"question_id": "not a number"})) is None


@pytest.mark.parametrize("name", ["message_reaction", "typing"])
def test_other_activities_are_ignored(name: str) -> None:
    assert translate(activity(name)) is None


@pytest.mark.parametrize("text", ["export", "Export", "/export"])
def test_export_is_a_command_for_the_engine_like_every_other(text: str) -> None:
    event = translate(activity("message_text", text=text))
    assert isinstance(event, Said)
    command = parse_command(event.incoming.text or "", explicit=event.incoming.is_command)
    assert command is not None and command.word == "export"


def test_a_leading_slash_marks_a_command() -> None:
    event = translate(activity("message_text", text="/support my visa expires"))
    assert isinstance(event, Said) and event.incoming.is_command
    event = translate(activity("message_text", text="support groups work well here"))
    assert isinstance(event, Said) and not event.incoming.is_command


def test_the_tenant_comes_from_the_conversation_or_the_channel_data() -> None:
    assert tenant_id(activity("message_text")) == TENANT
    without = recorded("message_text")
    del without["conversation"]["tenantId"]
    assert tenant_id(Activity().deserialize(without)) == TENANT
