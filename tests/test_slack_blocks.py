"""Neutral messages → Block Kit, checked with slack-sdk's own models; and the send pacing."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack.blocks import answered_blocks, chunks, escape, form_view, message_blocks
from bot.i18n import Translator
from bot.messages import Action, Choice, Outgoing

t = partial(Translator().gettext, "en")
GOAL = "Train self-reliance groups in the 12 key family practices & more"


def valid(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert len(blocks) <= 50
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()
        assert block.to_dict() == raw
    return blocks


def question(kind: str, choices: tuple[Choice, ...] = (), **more: Any) -> Outgoing:
    return Outgoing(
        person_id="tanvir",
        text=more.pop("text", "How far did you get?"),
        kind="question",
        flow="final",
        flow_title="Final reflection",
        question_id=42,
        question_kind=kind,  # type: ignore[arg-type]
        goal=more.pop("goal", GOAL),
        goals=(GOAL,),
        choices=choices,
        progress=(3, 6),
        progress_label="Final reflection · 3 of 6",
        hint="Reply with a number from 1 to 5.",
        **more,
    )


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_scale_question_has_a_button_per_value_naming_its_question() -> None:
    blocks = valid(message_blocks(question("scale", tuple(Choice(str(n), str(n)) for n in range(1, 6))), t))
    buttons = elements(blocks)
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        (f"rb:answer:42:{i}", str(i + 1)) for i in range(5)
    ]
    assert blocks[1]["text"]["text"] == "> " + escape(GOAL)
    assert blocks[-1]["elements"][0]["text"] == "Final reflection · 3 of 6"


def test_a_text_question_has_the_form_button_and_action_buttons_come_back_as_actions() -> None:
    message = question("text", actions=(Action("support-handled:7", "Mark as handled"),))
    buttons = elements(valid(message_blocks(message, t)))
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in buttons] == [
        ("rb:form:42", "42", "Answer in a form"),
        ("rb:do:0", "support-handled:7", "Mark as handled"),
    ]


def test_several_choices_are_checkboxes_with_a_send_button_and_many_a_menu() -> None:
    four = tuple(Choice(f"v{i}", f"Option {i}") for i in range(4))
    multi = elements(valid(message_blocks(question("multi", four), t)))
    assert [e["type"] for e in multi] == ["checkboxes", "button"]
    many = tuple(Choice(f"v{i}", f"Option {i} " + "x" * 100) for i in range(30))
    single = elements(valid(message_blocks(question("single", many), t)))
    assert single[0]["type"] == "static_select" and len(single[0]["options"]) == 30
    assert all(len(o["text"]["text"]) <= 75 for o in single[0]["options"])


def test_a_long_text_is_split_whole_and_escaped_within_section_limits() -> None:
    text = ("Grandmothers <decide> what children eat & when. " * 400).strip()
    blocks = valid(message_blocks(Outgoing(person_id="tanvir", text=text), t))
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    shown = "".join(b["text"]["text"] for b in blocks)
    assert shown == escape(text)  # nothing lost, nothing unescaped
    assert "<" not in shown and "&amp;" in shown


def test_chunks_never_cut_an_escape_in_half() -> None:
    text = "&" * 2000
    pieces = chunks(text, 3000)
    assert "".join(pieces) == text and all(len(escape(p)) <= 3000 for p in pieces)


def test_an_answer_is_shown_escaped_and_shortened_in_the_updated_message() -> None:
    answer = "A <b> & c > d " + "word " * 1000
    blocks = valid(answered_blocks(question("text", text="What did you see?"), answer, t))
    assert not elements(blocks)
    shown = blocks[-2]["text"]["text"]
    assert shown.startswith(":white_check_mark: Your answer: A &lt;b&gt; &amp; c &gt; d")
    assert len(shown) < 700 and shown.endswith("…")


def test_the_form_fits_slacks_modal_limits_whatever_the_language() -> None:
    long_title = partial(lambda m, **v: ("Ein sehr langer Titel für " + m).format(**v))
    view = form_view(41, "What <did> you see?", GOAL, "Midpoint reflection", "D0X:1.2", long_title)
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert json.loads(view["private_metadata"]) == {"q": 41, "m": "D0X:1.2"}
    assert view["blocks"][0]["text"]["text"] == "What &lt;did&gt; you see?"


def test_block_kit_models_do_catch_what_we_must_not_send() -> None:
    # The check the end-to-end tests rely on can fail.
    too_long = Block.parse({"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}})
    assert too_long is not None
    with pytest.raises(Exception, match="3000"):
        too_long.validate_json()
