"""The Slack app manifest for a public base URL (`reflectbot slack-manifest --url BASE`).

Paste it at https://api.slack.com/apps → Create New App → From a manifest. Scopes:
chat:write (DMs and updates), chat:write.public (post a panel's pack to its audience channel
without being invited to it; a private channel still needs the app invited), im:write
(conversations.open), mpim:write (a pairing's group DM with the pair; the bot does not read it:
no message.mpim), im:history (message.im), users:read, commands (/reflect), files:write
(`/reflect export` sends the person's data as a JSON file).
"""

from __future__ import annotations

from typing import Any

import yaml

from adapters.slack.translate import COMMAND

BOT_SCOPES = (
    "chat:write",
    "chat:write.public",
    "im:write",
    "mpim:write",
    "im:history",
    "users:read",
    "commands",
    "files:write",
)
BOT_EVENTS = ("message.im", "app_home_opened")
SUBCOMMANDS = (
    "help | status | now | all-now | skip | pause DATE | resume | share | support | correct | consent | export"
    " | pairing on|off"
)


def manifest(base_url: str, name: str = "reflectbot", socket_mode: bool = False) -> dict[str, Any]:
    # Slack sends events only to https request URLs; an http one fails at Slack's URL check.
    if not base_url.startswith("https://"):
        raise ValueError(f"the public base URL must start with https:// (got {base_url!r})")
    url = base_url.rstrip("/") + "/slack/events"
    command: dict[str, Any] = {
        "command": COMMAND,
        "url": url,
        "description": "Your reflections: answer now, skip, pause, export what you wrote",
        "usage_hint": SUBCOMMANDS,
        "should_escape": False,
    }
    return {
        "display_information": {
            "name": name,
            "description": "Reflection companion for work-exchange programmes",
            "background_color": "#2c5f2d",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def slack_manifest(base_url: str, socket_mode: bool = False) -> str:
    """The manifest as YAML, for a server reachable at `base_url` (its /slack/events)."""
    return yaml.safe_dump(
        manifest(base_url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True, width=100
    )
