"""Settings: .env.example lists every setting, and as shipped it gives the documented defaults."""

from __future__ import annotations

import re

from reflectbot.settings import Settings
from tests.conftest import ROOT


def test_env_example_lists_every_setting_and_loads_as_the_defaults() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = {m.lower() for m in re.findall(r"^([A-Z_]+)=", text, flags=re.M)}
    assert listed == set(Settings.model_fields)
    from_example = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert from_example == Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.database_url == "sqlite:///reflectbot.db"
    assert not from_example.slack_enabled and not from_example.teams_delivery
