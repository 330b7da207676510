"""Leaving the programme: someone the programme file no longer lists is asked nothing more, what
they wrote is kept until `forget`, and listing them again brings them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import Translator
from bot.messages import Incoming
from bot.privacy import export_person
from scheduler.sweeps import Sweeps
from storage.db import Store
from tests.conftest import PROGRAMME
from tests.support import RecordingSender, cli_runner

GONE = "rina"
STAYS = "bishal"
NOTE = "I moved to another project but I still think about the savings groups."


def without(person_id: str, tmp_path: Path) -> Path:
    """The sample programme file with one participant taken out, as a coordinator would edit it."""
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    data["participants"] = [p for p in data["participants"] if p["id"] != person_id]
    for panel in data.get("panels", []):
        panel["presenters"] = [p for p in panel["presenters"] if p != person_id]
    edited = tmp_path / "programme-without.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return edited


def instants(first: datetime, last: datetime) -> list[datetime]:
    """Twice a day (morning in South Asia, and later), the way cron's tick would meet them."""
    out, day = [], first
    while day <= last:
        out += [day.replace(hour=4, minute=30), day.replace(hour=10, minute=30)]
        day += timedelta(days=1)
    return out


async def test_a_participant_removed_from_the_file_gets_nothing_and_is_named_as_left(
    database_url: str, tmp_path: Path
) -> None:
    reflectbot = cli_runner(database_url, tmp_path)
    assert reflectbot("init").returncode == 0
    assert reflectbot("import", str(PROGRAMME)).returncode == 0
    second = reflectbot("import", str(without(GONE, tmp_path)))
    assert second.returncode == 0, second.stderr
    assert "left the programme" in second.stdout and "Rina Akter" in second.stdout, second.stdout

    store = Store(database_url)
    try:
        recorder = RecordingSender()
        engine = Engine(store)
        sweeps = Sweeps(engine, Deliverer(store, {"console": recorder}))
        # Rina's exchange runs 4 January – 25 June 2027: her midpoint falls around 31 March.
        for now in instants(datetime(2027, 3, 25, tzinfo=UTC), datetime(2027, 4, 20, tzinfo=UTC)):
            await sweeps.run_all(now)
        assert recorder.to(GONE) == []
        # The one still in the file had his prompts over the same weeks.
        assert [m for m in recorder.to(STAYS) if m.question_id is not None]

        # What she writes now is kept, and she is told she is asked nothing more.
        now = datetime(2027, 4, 21, 5, tzinfo=UTC)
        await engine.accept(
            Incoming(platform="console", user_id=GONE, text=NOTE, event_id="after-leaving"), now
        )
        await sweeps.run_all(now)
        told = recorder.to(GONE)
        # In her language (Bengali): nothing more will be asked, and her message was kept.
        kept = Translator().gettext(
            "bn",
            "You are no longer in this programme's list, so I ask you nothing more. I kept your message as a note; write {cmd_export} to get everything you wrote.",
        )
        assert [m.text for m in told] == [kept] and kept.startswith("আপনি")
        exported = await export_person(store, GONE)
        assert [n["text"] for n in exported["notes"]] == [NOTE]
        assert exported["reflections"] == []
    finally:
        await store.close()

    back = reflectbot("import", str(PROGRAMME))
    assert back.returncode == 0, back.stderr
    assert "back in the programme: Rina Akter" in back.stdout, back.stdout
    store = Store(database_url)
    try:
        recorder = RecordingSender()
        sweeps = Sweeps(Engine(store), Deliverer(store, {"console": recorder}))
        # Back before her final reflection (from 19 June): it comes to her as to anyone.
        for now in instants(datetime(2027, 6, 19, tzinfo=UTC), datetime(2027, 6, 24, tzinfo=UTC)):
            await sweeps.run_all(now)
        assert [m for m in recorder.to(GONE) if m.question_id is not None]
    finally:
        await store.close()


async def test_a_coordinator_who_left_gets_no_digest(database_url: str, tmp_path: Path) -> None:
    reflectbot = cli_runner(database_url, tmp_path)
    assert reflectbot("init").returncode == 0
    data = yaml.safe_load(PROGRAMME.read_text(encoding="utf-8"))
    assert reflectbot("import", str(PROGRAMME)).returncode == 0
    gone = data["coordinators"][0]
    data["coordinators"] = data["coordinators"][1:]
    edited = tmp_path / "programme-without-coordinator.yaml"
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = reflectbot("import", str(edited))
    assert result.returncode == 0, result.stderr
    assert gone["name"] in result.stdout

    store = Store(database_url)
    try:
        recorder = RecordingSender()
        sweeps = Sweeps(Engine(store), Deliverer(store, {"console": recorder}))
        start = datetime(2027, 4, 1, tzinfo=UTC)
        for hour in range(0, 24 * 8, 2):  # every digest hour of a week and a day
            await sweeps.run_all(start + timedelta(hours=hour))
        assert recorder.to(gone["id"]) == []
        stayed = data["coordinators"][0]["id"]
        assert recorder.to(stayed), "the coordinator still in the file had their digest"
    finally:
        await store.close()
