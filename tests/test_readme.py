"""README's "Try it" path works on the demo's database alone: run top to bottom, it changes no
real data."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def test_every_command_of_try_it_uses_the_demo_database() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Try it") : readme.index("## Run it for your programme")]
    commands = [
        line.split("#")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)
        for line in block.splitlines()
        if "reflectbot " in line
    ]
    assert commands
    first_export = section.index("export DATABASE_URL=sqlite:///demo/reflectbot.db")
    assert all(section.index(c) > first_export for c in commands), commands
    assert not any(" tick" in c or " import " in c or "init" in c for c in commands), commands
    assert "make demo" in readme and "make test" in readme
