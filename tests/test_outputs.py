"""Reports as files: HTML never pours into a terminal unless asked, and the outcome chart inside
the HTML report speaks the reader's language (SVG, its labels text the browser shapes)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.i18n import Translator
from tests.conftest import PROGRAMME
from tests.support import cli_environment, cli_runner


@pytest.fixture
def imported(tmp_path: Path, database_url: str) -> str:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0 and run("import", str(PROGRAMME)).returncode == 0
    return database_url


def on_a_terminal(database_url: str, cwd: Path, *args: str) -> tuple[int, str]:
    """`reflectbot ARGS` with its stdout on a terminal (a pseudo-terminal), as a person runs it."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reflectbot.cli", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=cli_environment(database_url),
        cwd=cwd,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    _, err = process.communicate(timeout=120)
    return process.wait(), shown.decode("utf-8", "replace") + err.decode()


def test_html_goes_to_a_terminal_only_when_asked(imported: str, tmp_path: Path) -> None:
    code, shown = on_a_terminal(imported, tmp_path, "outcomes", "--format", "html")
    assert code == 2 and "--out" in shown and "<html" not in shown and "Traceback" not in shown
    code, shown = on_a_terminal(imported, tmp_path, "outcomes", "--format", "html", "--out", "-")
    assert code == 0 and "<!DOCTYPE html>" in shown
    code, shown = on_a_terminal(imported, tmp_path, "digest", "--coordinator", "ingrid", "--format", "html")
    assert code == 2 and "<html" not in shown


def test_the_html_chart_is_in_the_readers_language(imported: str, tmp_path: Path) -> None:
    run = cli_runner(imported, tmp_path)
    result = run("outcomes", "--format", "html", "--lang", "bn", "--out", "bn.html")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "bn.html").read_text(encoding="utf-8")
    [svg] = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    labels = re.findall(r"<text[^>]*>([^<]+)", svg)
    assert "কারিগরি দক্ষতা" in labels  # "Technical competence", as the table around it says it
    assert not any("Technical" in label or "Outcomes reported" in label for label in labels)


@pytest.mark.parametrize(
    ("language", "script"),
    [("bn", ("\u0980", "\u09ff")), ("hi", ("\u0900", "\u097f")), ("km", ("\u1780", "\u17ff"))],
)
def test_the_html_charts_title_legend_and_labels_are_text_in_bengali_hindi_and_khmer(
    imported: str, tmp_path: Path, language: str, script: tuple[str, str]
) -> None:
    """Text, not paths: the reader's browser shapes it (conjuncts, matras, subscripts)."""
    result = cli_runner(imported, tmp_path)(
        "outcomes", "--format", "html", "--lang", language, "--out", "r.html"
    )
    assert result.returncode == 0, result.stderr
    [svg] = re.findall(r"<svg.*?</svg>", (tmp_path / "r.html").read_text(encoding="utf-8"), flags=re.S)
    labels = {" ".join(label.split()) for label in re.findall(r"<text[^>]*>([^<]+)", svg)}
    translator = Translator()
    for english in ("Outcomes reported", "Share of participants", "Share of partnerships", "Innovation"):
        translated = translator.gettext(language, english)
        assert any(script[0] <= ch <= script[1] for ch in translated), f"{english} is translated"
        assert translated in labels
    assert not any(re.search(r"[A-Za-z]{3}", label) for label in labels), labels


def test_a_report_that_cannot_be_written_names_the_file(imported: str, tmp_path: Path) -> None:
    result = cli_runner(imported, tmp_path)("panel-pack", "spring-panel", "--out", "no/such/dir/pack.md")
    assert result.returncode == 2 and "no/such/dir/pack.md" in result.stderr
    assert "Traceback" not in result.stderr


def _command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = cli_environment("sqlite:///unused.db") | env
    return subprocess.run(
        [sys.executable, "-m", "reflectbot.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def test_the_teams_package_links_to_the_organisations_own_pages(tmp_path: Path) -> None:
    import json
    import zipfile

    app_id = "00000000-0000-4000-8000-000000000001"
    result = _command(
        tmp_path,
        "teams-package",
        "--out",
        "teams.zip",
        MICROSOFT_APP_ID=app_id,
        TEAMS_PRIVACY_URL="https://example.org/privacy",
        TEAMS_TERMS_URL="https://example.org/terms",
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "teams.zip") as archive:
        developer = json.loads(archive.read("manifest.json"))["developer"]
    assert developer["privacyUrl"] == "https://example.org/privacy"
    assert developer["termsOfUseUrl"] == "https://example.org/terms"
    refused = _command(
        tmp_path, "teams-package", MICROSOFT_APP_ID=app_id, TEAMS_PRIVACY_URL="http://example.org/privacy"
    )
    assert refused.returncode == 2 and "TEAMS_PRIVACY_URL" in refused.stderr and "https://" in refused.stderr


def test_the_slack_manifest_refuses_http(tmp_path: Path) -> None:
    result = _command(tmp_path, "slack-manifest", "--url", "http://reflect.example.org")
    assert result.returncode == 2 and "https://" in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_export_writes_to_a_file(imported: str, tmp_path: Path) -> None:
    import json

    result = cli_runner(imported, tmp_path)("export", "rina", "--out", "rina.json")
    assert result.returncode == 0 and result.stdout == "" and "wrote rina.json" in result.stderr
    assert json.loads((tmp_path / "rina.json").read_text(encoding="utf-8"))["person"] == "rina"
