"""`reflectbot slack-manifest --url BASE`: the Slack app manifest, valid against Slack's schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from adapters.slack.manifest import slack_manifest
from tests.conftest import FIXTURES

SCHEMA = json.loads((FIXTURES / "schemas" / "slack-manifest.schema.1.0.0.json").read_text(encoding="utf-8"))
BASE = "https://reflect.example.org"


def test_the_manifest_is_yaml_valid_against_slacks_schema() -> None:
    manifest = yaml.safe_load(slack_manifest(BASE))
    jsonschema.validate(manifest, SCHEMA)


def test_the_manifest_names_every_url_command_event_and_scope() -> None:
    manifest = yaml.safe_load(slack_manifest(BASE + "/"))
    url = f"{BASE}/slack/events"
    settings, features = manifest["settings"], manifest["features"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert [(c["command"], c["url"]) for c in features["slash_commands"]] == [("/reflect", url)]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_home_opened"}
    assert {
        "chat:write",
        "chat:write.public",  # the panel pack goes to its audience channel without an invitation
        "im:write",
        "im:history",
        "users:read",
        "commands",
        "files:write",  # /reflect export sends a JSON file
    } <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    assert settings["socket_mode_enabled"] is False


def test_the_schema_check_can_fail() -> None:
    manifest = yaml.safe_load(slack_manifest(BASE))
    manifest["settings"]["interactivity"]["request_url"] = "ftp://nowhere"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, SCHEMA)


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="https://"):
        slack_manifest("reflect.example.org")
