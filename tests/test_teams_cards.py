"""Adaptive Cards for every kind of message, valid against the published 1.5 schema, and the
Teams app package."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from adapters.teams.cards import answered_card, message_card, needs_card
from adapters.teams.package import COMMANDS, build_teams_package
from bot.i18n import Translator
from bot.messages import Action, Choice, Outgoing

SCHEMAS = Path(__file__).parent / "fixtures" / "schemas"
CARD_SCHEMA = json.loads((SCHEMAS / "adaptive-card.schema.1.5.json").read_text())
MANIFEST_SCHEMA = json.loads((SCHEMAS / "teams-manifest.schema.1.17.json").read_text())
GOAL = "Train self-reliance groups in the 12 key family practices that prevent malnutrition in children under five"
APP_ID = "0b5c6a2e-9d41-4f7a-8e3b-1c2d3e4f5a6b"


def assert_valid_card(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(p) for p in card["version"].split(".")) <= (1, 5)
    jsonschema.validate(card, CARD_SCHEMA)


def gettext(language: str = "en"):  # type: ignore[no-untyped-def]
    translator = Translator()
    return lambda message, **values: translator.gettext(language, message, **values)


def question(kind: str, **fields: Any) -> Outgoing:
    base: dict[str, Any] = {
        "person_id": "tanvir",
        "text": "What have you observed at Krousar Yoeung?",
        "kind": "question",
        "flow": "midpoint",
        "flow_title": "Midpoint reflection",
        "question_id": 41,
        "question_kind": kind,
        "goals": (GOAL,),
        "progress": (2, 8),
        "progress_label": "Midpoint reflection · 2 of 8",
        "hint": "Write your answer · skip: leave this one out · help: more",
    }
    base.update(fields)
    return Outgoing(**base)


MESSAGES = {
    "text": question("text"),
    "text about a goal": question(
        "text", text=f"Your learning goal: “{GOAL}”. What have you learned?", goal=GOAL
    ),
    "single": question(
        "single",
        text="May the panel hear this?",
        choices=(Choice("named", "Share with my name"), Choice("anonymous", "Share anonymously")),
    ),
    "scale": question(
        "scale",
        text=f"How far did you get with your learning goal “{GOAL}”?",
        goal=GOAL,
        choices=tuple(Choice(str(n), str(n)) for n in range(1, 6)),
    ),
    "multi": question(
        "multi",
        text="Which of these did your exchange bring?",
        choices=(Choice("skills", "New skills"), Choice("network", "A wider network")),
    ),
    "info": question("info", text="A note, nothing to answer."),
    "khmer": question("text", language="km", text="តើអ្នកបានសង្កេតឃើញអ្វីខ្លះ?"),
    "alert with a button": Outgoing(
        person_id="farhana",
        kind="alert",
        language="bn",
        text="Tanvir Hossain asks for support: “My visa *needs* renewing <soon>”",
        actions=(Action("support-handled:3", "Mark handled"),),
    ),
}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_every_card_validates_against_the_adaptive_cards_1_5_schema(name: str) -> None:
    message = MESSAGES[name]
    assert needs_card(message)
    card = message_card(message, gettext(message.language))
    assert_valid_card(card)
    if message.question_id is not None:
        assert_valid_card(answered_card(message, "Ran two trainings.", gettext(message.language)))


def _submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in _walk(card) if node.get("type") == "Action.Submit"]


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_walk(item))
    return found


def test_choices_are_buttons_that_carry_their_question_and_value() -> None:
    card = message_card(MESSAGES["single"], gettext())
    assert [(a["title"], a["data"]) for a in _submits(card)] == [
        ("Share with my name", {"question_id": 41, "value": "named"}),
        ("Share anonymously", {"question_id": 41, "value": "anonymous"}),
    ]


def test_a_text_question_has_a_multi_line_field_and_a_send_button() -> None:
    card = message_card(MESSAGES["text"], gettext())
    [field] = [n for n in _walk(card) if n.get("type") == "Input.Text"]
    assert field["isMultiline"] is True and field["id"] == "answer"
    [send] = _submits(card)
    assert send["data"] == {"question_id": 41} and send["associatedInputs"] == "auto"


def test_the_card_quotes_the_goal_and_shows_progress() -> None:
    shown = json.dumps(message_card(MESSAGES["scale"], gettext()), ensure_ascii=False)
    assert f"“{GOAL}”" in shown and "Midpoint reflection · 2 of 8" in shown
    shown = json.dumps(message_card(MESSAGES["text"], gettext()), ensure_ascii=False)
    assert "Your learning goals" in shown and f"“{GOAL}”" in shown


def test_an_answered_card_shows_the_answer_and_asks_nothing_more() -> None:
    card = answered_card(MESSAGES["single"], "Share anonymously", gettext())
    shown = json.dumps(card, ensure_ascii=False)
    assert "Your answer: Share anonymously" in shown
    assert _submits(card) == [] and "Input." not in shown


def test_a_card_that_breaks_the_schema_is_caught() -> None:
    card = message_card(MESSAGES["text"], gettext())
    with pytest.raises(jsonschema.ValidationError):
        assert_valid_card({**card, "body": [{"type": "TextBlock", "text": "x", "wrap": "yes"}]})
    with pytest.raises(AssertionError):
        assert_valid_card({**card, "version": "1.6"})


def test_notices_without_buttons_are_plain_messages() -> None:
    assert not needs_card(Outgoing(person_id="tanvir", text="Skipped."))


# -- the app package ------------------------------------------------------------------------
def test_the_package_holds_a_valid_manifest_and_both_icons(tmp_path: Path) -> None:
    out = build_teams_package(tmp_path / "reflectbot-teams.zip", APP_ID, version="1.2.3")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    jsonschema.Draft7Validator(MANIFEST_SCHEMA).validate(manifest)
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["id"] == APP_ID and manifest["version"] == "1.2.3"
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"]
    commands = {c["title"]: c["description"] for c in bot["commandLists"][0]["commands"]}
    assert commands == dict(COMMANDS) and len(commands) == 10  # Teams allows 10
    assert {
        "help",
        "status",
        "now",
        "skip",
        "pause",
        "share",
        "support",
        "correct",
        "consent",
        "export",
    } == set(commands)
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    # The outline icon is white on transparent, as Teams requires.
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    assert {p[:3] for p in pixels if p[3]} == {(255, 255, 255)}
    assert any(p[3] == 0 for p in pixels)


def test_the_manifest_schema_check_catches_a_wrong_manifest_version(tmp_path: Path) -> None:
    out = build_teams_package(tmp_path / "p.zip", APP_ID)
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(MANIFEST_SCHEMA).validate({**manifest, "manifestVersion": "1.16"})


def test_the_package_needs_the_app_id_as_a_guid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_teams_package(tmp_path / "p.zip", "reflectbot")


def test_the_same_settings_give_the_same_package(tmp_path: Path) -> None:
    first = build_teams_package(tmp_path / "a.zip", APP_ID, version="1.0.0").read_bytes()
    assert build_teams_package(tmp_path / "b.zip", APP_ID, version="1.0.0").read_bytes() == first


# -- pacing ---------------------------------------------------------------------------------
