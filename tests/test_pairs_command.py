"""`reflectbot pairs` as a coordinator runs it: the next round previewed without storing anything,
then the round the sweeps made, each pair with why it was made."""

from __future__ import annotations

from pathlib import Path

from tests.pairing_world import pairing_file, round_instant
from tests.support import cli_runner
from tests.test_cli_mistakes import rows

HOSPITAL_GOAL = "Understand how a low-cost community hospital is run and financed"


def test_pairs_previews_the_next_round_and_prints_the_current_one(database_url: str, tmp_path: Path) -> None:
    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    assert run("import", str(pairing_file(tmp_path))).returncode == 0
    before = rows(database_url)
    day_before = "2027-03-01T06:00:00+00:00"

    preview = run("pairs", "--at", day_before, "--preview")
    assert preview.returncode == 0, preview.stderr
    assert "round 1, from 2027-03-02 (preview, not stored)" in preview.stdout
    assert f"Aspada: Bishal Thapa + Nasrin Akhter (shared learning goal “{HOSPITAL_GOAL}”" in preview.stdout
    assert "Sahaj Community Hospital: Rina Akter + Dawa Sherpa + Pema Lama" in preview.stdout
    assert rows(database_url) == before  # a preview stores nothing

    assert run("tick", "--at", round_instant(0).isoformat(), "--yes").returncode == 0
    current = run("pairs", "--at", round_instant(0).isoformat())
    assert current.returncode == 0, current.stderr
    assert "round 1, from 2027-03-02 (made 2027-03-02 04:30 UTC)" in current.stdout
    # What was stored is what the preview showed.
    assert current.stdout.splitlines()[1:] == preview.stdout.splitlines()[1:]


def test_pairs_without_pairing_says_what_to_do(database_url: str, tmp_path: Path) -> None:
    from tests.conftest import PROGRAMME

    run = cli_runner(database_url, tmp_path)
    assert run("init").returncode == 0
    assert run("import", str(PROGRAMME)).returncode == 0
    result = run("pairs")
    assert result.returncode == 2
    assert "no pairing in the programme" in result.stderr and "Traceback" not in result.stderr
