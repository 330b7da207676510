"""The architecture holds: storage <- bot <- adapters, scheduler <- entry point; bot imports no SDK."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp", "apscheduler")


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_bot_imports_no_platform_sdk_even_lazily() -> None:
    # import-linter sees module-level and function-level imports alike, but this spells it out.
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in SDKS or n.startswith("adapters")
            ]
    assert offenders == []


def test_serve_loads_no_chart_or_spreadsheet_library_until_one_is_asked_for() -> None:
    # matplotlib and openpyxl held some 70 MB of every replica's memory, though a replica draws
    # a chart only when a coordinator opens a page that has one.
    probe = (
        "import sys, reflectbot.cli, reflectbot.server; "
        "print(' '.join(m for m in ('matplotlib', 'openpyxl', 'weasyprint') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
