"""Which adapters run, built from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from adapters.port import PlatformAdapter
from bot.engine import Engine
from reflectbot.settings import Settings

logger = logging.getLogger(__name__)


def build_adapters(
    settings: Settings, engine: Engine, clock: Callable[[], datetime], on_stored: Callable[[], None]
) -> dict[str, PlatformAdapter]:
    adapters: dict[str, PlatformAdapter] = {}
    # slack_enabled checks the token too; the second test tells mypy it is a str.
    if settings.slack_enabled and settings.slack_bot_token:
        from adapters.slack import SlackAdapter

        adapters["slack"] = SlackAdapter(
            engine=engine,
            clock=clock,
            on_stored=on_stored,
            bot_token=settings.slack_bot_token,
            signing_secret=settings.slack_signing_secret,
            app_token=settings.slack_app_token,
            api_url=settings.slack_api_url,
            messages_per_second=settings.slack_messages_per_second,
            workspace_messages_per_minute=settings.slack_workspace_messages_per_minute,
        )
    if not settings.teams_served:
        return adapters
    from adapters.teams import TeamsAdapter
    from bot.record_links import RecordLinks
    from bot.web_links import WebLinks

    adapters["teams"] = TeamsAdapter(
        engine=engine,
        clock=clock,
        on_stored=on_stored,
        app_id=settings.microsoft_app_id,
        app_password=settings.microsoft_app_password,
        tenant_id=settings.microsoft_app_tenant_id,
        app_type=settings.microsoft_app_type,
        service_url=settings.teams_service_url,
        tenant_requests_per_second=settings.teams_tenant_requests_per_second,
        record_links=RecordLinks(WebLinks(engine.store, settings.web_base_url, settings.web_secret)),
    )
    return adapters
