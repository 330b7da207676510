"""The one settings object, read from the environment and `.env`, built once at the entry point."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    # An empty value in .env means "unset", as in .env.example.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_parse_none_str=""
    )

    database_url: str = "sqlite:///reflectbot.db"
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=0, le=65535)
    # Unset: WARNING for the commands a person runs by hand, INFO for `serve`.
    log_level: str | None = None

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    # chat.postMessage allows about one message a second per channel, with short bursts.
    slack_messages_per_second: float = Field(default=1.0, gt=0)
    # chat.postMessage's workspace-wide limit (Slack says several hundred a minute without a
    # figure): every replica together keeps under this many posts a minute.
    slack_workspace_messages_per_minute: float = Field(default=600.0, gt=0)

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str = Field(default="MultiTenant")
    teams_service_url: str = "https://smba.trafficmanager.net/teams/"
    # The Teams app package's links (Teams shows them on the app's page); your organisation's own.
    teams_website_url: str = "https://github.com/reflectbot/reflectbot"
    teams_privacy_url: str | None = None
    teams_terms_url: str | None = None
    # Send prompts to people's Teams identities (on by default once MICROSOFT_APP_ID is set).
    # True without MICROSOFT_APP_ID is development mode: /api/messages then accepts activities
    # without authentication (the Bot Framework Emulator); never on a public address.
    teams_enabled: bool | None = None
    # Teams allows about 30-50 requests a second per app per tenant; every replica together
    # keeps under this many.
    teams_tenant_requests_per_second: float = Field(default=30.0, gt=0)

    # How often `serve` runs the sweeps (start due conversations, reminders, digests).
    sweep_interval_seconds: int = 60

    # The coordinators' web view (/web/ on the same server): the public address links point to;
    # unset, no links are handed out (`reflectbot link` says so) and digests carry none.
    web_base_url: str | None = None
    # The key links are signed with; unset, one is made and kept in the database.
    web_secret: str | None = Field(default=None, min_length=32)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LEVELS)}")
        return value.upper() if value else None

    @field_validator("slack_api_url", "teams_service_url")
    @classmethod
    def _web(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not a web address; it must start with https://")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not a web address; write e.g. https://reflect.example.org")
        return value.rstrip("/") if value else None

    @field_validator("teams_website_url", "teams_privacy_url", "teams_terms_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        # Teams refuses a package whose links are not https.
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"{value!r} must start with https:// (Teams accepts no other)")
        return value

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def teams_served(self) -> bool:
        """Whether `serve` answers POST /api/messages: authenticated with an app id, or in the
        development mode someone asked for; otherwise there is no unauthenticated door."""
        return bool(self.microsoft_app_id) or self.teams_enabled is True

    @property
    def teams_delivery(self) -> bool:
        return self.teams_enabled if self.teams_enabled is not None else bool(self.microsoft_app_id)
