"""The learning record (issue 17): a participant reviews it in the chat (include or leave out each
item), a coordinator of theirs approves it with `reflectbot record PERSON --approve`, and the PDF
holds the goals, the three ratings and what they kept, in their language. Real databases (SQLite,
and PostgreSQL beside scripts/with-postgres), real `reflectbot` processes, the fake Slack API and
the fake Teams connector."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from pypdf import PdfReader

from bot.i18n import Translator
from bot.privacy import export_person, forget_person
from bot.reports.record import build_record
from bot.reports.record_pdf import record_pdf
from storage import audit
from storage.db import Store
from storage.models import AhaMoment, Answer, AuditKind, Conversation, Person, Question
from storage.people import goals_of
from tests.conftest import PROGRAMME
from tests.fakes.slack_api import SlackWorld
from tests.support import cli_runner
from tests.teams_world import TeamsChat, open_teams_world
from tests.test_cli_mistakes import assert_user_error
from tests.test_slack_serve import RINA, RINA_DM, fake, world  # noqa: F401  (fixtures)
from tests.transcript import Transcript

OBSERVED = "Mothers bring their neighbours to the clinic on market days."
LEARNED = "Weekly savings circles hold together when a nurse visits them."
ADOPT = "Evening clinic hours for working mothers."
AHA = "Grandmothers decide what the children eat."
TAKEAWAY = "Ask the women before planning anything for them."
APPLIED = "We started a savings circle at our own office."
RATINGS = {"welcome": 2, "midpoint": 3, "final": 5}
TANVIR_AAD = "1a7c9e3b-2f4d-4a6b-8c0e-5d3f7b9a1c24"


async def live_through(store: Store, person_id: str, now: datetime) -> None:
    """What a participant leaves after an exchange: a rating of each goal at the welcome, the
    midpoint and the end, reflections, aha moments and what they applied back home."""
    async with store.session() as session:
        goals = await goals_of(session, person_id)
        position = 0

        async def answered(conv: Conversation, key: str, text: str, goal: str | None = None, kind: str = "text") -> Question:
            nonlocal position
            position += 1
            assert conv.id is not None
            question = Question(
                conversation_id=conv.id, person_id=person_id, position=position, key=key, kind=kind,
                goal_id=goal, text=f"Question {key}", status="answered",
            )
            session.add(question)
            await session.flush()
            assert question.id is not None
            values = [text] if kind == "scale" else None
            session.add(Answer(question_id=question.id, person_id=person_id, goal_id=goal, text=text,
                               values=values, answered_at=now + timedelta(minutes=position)))
            return question

        for number, flow in enumerate(("welcome", "midpoint", "final", "follow-up")):
            conv = Conversation(key=f"{flow}:{person_id}", person_id=person_id, flow=flow, status="done",
                                created_at=now + timedelta(days=number))
            session.add(conv)
            await session.flush()
            if flow in RATINGS:
                for goal in goals:
                    await answered(conv, "goal_progress", str(RATINGS[flow]), goal.id, "scale")
            if flow == "midpoint":
                await answered(conv, "observations", OBSERVED)
                await answered(conv, "learning", LEARNED, goals[0].id)
                asked = await answered(conv, "aha", AHA)
                session.add(AhaMoment(person_id=person_id, question_id=asked.id, kind="aha", text=AHA,
                                      consent="named", created_at=now))
                session.add(AhaMoment(person_id=person_id, kind="takeaway", text=TAKEAWAY, created_at=now))
            if flow == "final":
                await answered(conv, "adopt", ADOPT)
            if flow == "follow-up":
                asked = await answered(conv, "applied_what", APPLIED)
                session.add(AhaMoment(person_id=person_id, question_id=asked.id, kind="takeaway", text=APPLIED,
                                      created_at=now))


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def numbered(listing: str, text: str) -> int:
    """The number `record` gave the item that begins with `text`."""
    match = re.search(rf"^(\d+)\. \[[^\]]*\] {re.escape(text[:40])}", listing, re.M)
    assert match, listing
    return int(match.group(1))


async def test_a_record_reviewed_in_the_chat_and_approved_holds_what_was_kept(
    transcript: Transcript, database_url: str, tmp_path: Path
) -> None:
    store = transcript.engine.store
    await live_through(store, "rina", transcript.now - timedelta(days=200))
    await transcript.send("rina", "record")
    listing = transcript.sender.to("rina")[-1].text
    for text in (OBSERVED, LEARNED, ADOPT, AHA, TAKEAWAY, APPLIED):
        assert text[:40] in listing
    assert listing.count(APPLIED[:40]) == 1  # a follow-up's answer is listed once, not as a moment too
    left_out = numbered(listing, OBSERVED)
    await transcript.send("rina", f"record {left_out} out")
    changed = transcript.sender.to("rina")[-1].text
    assert re.search(rf"^{left_out}\. \[{re.escape(Translator().gettext('bn', 'left out'))}\]", changed, re.M)

    run = cli_runner(database_url, tmp_path)
    draft = tmp_path / "draft.pdf"
    made = run("record", "rina", "--out", str(draft), "--lang", "en")
    assert made.returncode == 0, made.stderr
    assert "draft" in made.stdout
    assert "DRAFT" in pdf_text(draft.read_bytes())[0]

    final = tmp_path / "rina.pdf"
    approved = run("record", "rina", "--approve", "--by", "ingrid", "--out", str(final), "--lang", "en")
    assert approved.returncode == 0, approved.stderr
    text, pages = pdf_text(final.read_bytes())
    assert pages <= 2
    assert "Rina Akter" in text
    flat = " ".join(text.split())
    goal = "Form self-reliance groups that help women save money for healthcare costs"
    assert goal in flat
    assert re.search(r"costs\s+2\s+3\s+5", text), text  # welcome, midpoint, final
    for kept in (LEARNED, ADOPT, AHA, TAKEAWAY, APPLIED):
        assert kept in flat
    assert OBSERVED not in flat
    assert "DRAFT" not in text and "draft" not in text.lower()
    assert "Approved by Ingrid" in flat
    async with store.reading() as session:
        [row] = await audit.entries(session, person_id="rina", kind=AuditKind.RECORD_APPROVAL)
    assert row.detail["coordinator"] == "ingrid" and row.detail["included"] == 5

    # A change of mind after the approval makes it a draft again.
    await transcript.send("rina", "record all in")
    record = await build_record(store, "rina")
    assert not record.approved and all(i.included for i in record.items)


async def test_the_bengali_record_is_in_bengali(programme: Store, tmp_path: Path) -> None:
    await live_through(programme, "rina", datetime(2027, 1, 4, tzinfo=UTC))
    record = await build_record(programme, "rina")
    data = record_pdf(record, Translator())
    (tmp_path / "rina-bn.pdf").write_bytes(data)
    text, pages = pdf_text(data)
    assert pages <= 2 and "Rina Akter" in text
    heading = Translator().gettext("bn", "Learning record")
    assert heading != "Learning record"
    bengali = [ch for ch in text if "\u0980" <= ch <= "\u09ff"]
    assert len(bengali) > 50, text
    # Page 1 as a picture, to look at (see the README's note on the learning record);
    # scripts/ensure-browser installs pdftoppm beside the browser.
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(tmp_path / "rina-bn.pdf"),
                    str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 10_000


async def test_cli_mistakes_are_one_line(programme: Store, database_url: str, tmp_path: Path) -> None:
    run = cli_runner(database_url, tmp_path)
    assert_user_error(run("record", "nobody", "--out", "x.pdf"), "no participant 'nobody'")
    assert_user_error(run("record", "rina"), "--out")
    assert_user_error(run("record", "rina", "--approve"), "--by")
    assert_user_error(run("record", "rina", "--out", "x.pdf", "--lang", "xx"), "--lang")
    # Farhana coordinates another partnership (kry-aspada), not Rina's.
    assert_user_error(run("record", "rina", "--approve", "--by", "farhana"), "'farhana' is not a coordinator")
    assert not (tmp_path / "x.pdf").exists()
    async with programme.reading() as session:
        assert await audit.entries(session, kind=AuditKind.RECORD_APPROVAL) == []
    record = await build_record(programme, "rina")
    assert not record.approved


async def test_slack_delivers_the_record_as_a_file_in_the_dm(world: SlackWorld) -> None:  # noqa: F811
    await live_through(world.server.store, "rina", datetime(2026, 12, 1, tzinfo=UTC))
    await world.command(RINA, "record")
    await world.server.drain()
    complete = world.fake.called("files.completeUploadExternal")[-1]
    assert complete.body["channel_id"] == RINA_DM
    [file] = complete.body["files"]
    assert file["title"] == "learning-record-rina.pdf"
    data = world.fake.uploads[file["id"]]
    assert data.startswith(b"%PDF")
    assert "Rina Akter" in pdf_text(data)[0]
    assert complete.body["initial_comment"] == Translator().gettext("bn", "Your learning record as a document:")


async def test_teams_sends_a_signed_link_to_the_record(tmp_path: Path) -> None:
    async with open_teams_world(tmp_path, PROGRAMME, web_base_url="https://reflect.example.org") as teams:
        await live_through(teams.server.store, "tanvir", teams.now - timedelta(days=1))
        tanvir = TeamsChat(teams, teams.user(TANVIR_AAD, "Tanvir Hossain"))
        await tanvir.say("record")
        texts = [a.get("text") or "" for a in tanvir.unread()]
        [link] = [m for t in texts for m in re.findall(r'href="([^"]+)"', t) if "/web/record/" in m]
        assert link.startswith("https://reflect.example.org/web/record/")
        local = teams.endpoint.replace("/api/messages", "") + link.removeprefix("https://reflect.example.org")
        async with aiohttp.ClientSession() as client:
            async with client.get(local) as response:
                assert response.status == 200
                assert response.headers["Content-Type"] == "application/pdf"
                assert "Tanvir Hossain" in pdf_text(await response.read())[0]
            async with client.get(local[:-3] + "xyz") as tampered:
                assert tampered.status == 403


async def test_teams_without_a_public_address_says_so(tmp_path: Path) -> None:
    async with open_teams_world(tmp_path, PROGRAMME) as teams:
        tanvir = TeamsChat(teams, teams.user(TANVIR_AAD, "Tanvir Hossain"))
        await tanvir.say("record")
        texts = [a.get("text") or "" for a in tanvir.unread()]
        assert [t for t in texts if "WEB_BASE_URL" in t and "/web/record/" not in t]


async def test_export_holds_the_record_choices_and_forget_deletes_them(transcript: Transcript) -> None:
    store = transcript.engine.store
    await live_through(store, "rina", transcript.now - timedelta(days=200))
    await transcript.send("rina", "record 1 out")
    from bot.reports.record import approve_record

    await approve_record(store, "rina", "ingrid", transcript.now, "cli:test")
    await transcript.send("rina", "record 2 out")
    data = await export_person(store, "rina")
    choices = data["learning_record"]["choices"]
    assert [c["included"] for c in choices] == [False, False]
    assert data["learning_record"]["approval"]["approved_by"] == "ingrid"
    assert data["learning_record"]["approval"]["invalidated_at"] is not None
    counts = await forget_person(store, "rina")
    assert counts["record_choices"] == 2 and counts["record_approval"] == 1
    after = await export_person(store, "rina")
    assert after["learning_record"] == {"choices": [], "approval": None}
    async with store.reading() as session:
        person = await session.get(Person, "rina")
        assert person is not None and person.forgotten


async def test_a_coordinator_has_no_record(transcript: Transcript) -> None:
    await transcript.send("ingrid", "record")  # Ingrid writes Norwegian
    said = Translator().gettext("nb", "Only participants on exchange have a learning record.")
    assert said != "Only participants on exchange have a learning record."
    assert transcript.sender.to("ingrid")[-1].text == said


async def test_a_long_record_stays_within_two_pages_and_says_what_it_left_out(programme: Store) -> None:
    now = datetime(2027, 1, 4, tzinfo=UTC)
    await live_through(programme, "rina", now)
    async with programme.session() as session:
        conv = Conversation(key="midpoint-long:rina", person_id="rina", flow="midpoint", status="done", created_at=now)
        session.add(conv)
        await session.flush()
        assert conv.id is not None
        for n in range(30):
            question = Question(conversation_id=conv.id, person_id="rina", position=n, key="achievements",
                                kind="text", text="What have you achieved?", status="answered")
            session.add(question)
            await session.flush()
            assert question.id is not None
            session.add(Answer(question_id=question.id, person_id="rina", text=f"Achievement {n}: " + "word " * 400,
                               answered_at=now + timedelta(days=1, minutes=n)))
    record = await build_record(programme, "rina")
    assert len(record.items) == 36
    text, pages = pdf_text(record_pdf(record, Translator(), "en"))
    assert pages <= 2
    flat = " ".join(text.split())
    assert "more, left out to keep this record to two pages" in flat
    assert "Long texts are shortened to 400 characters" in flat
    assert "Achievement 29" not in flat


async def test_the_terminal_says_how_to_print_the_record_and_bengali_words_work(programme: Store) -> None:
    from adapters.console.sender import ConsoleSender
    from bot.delivery import Deliverer
    from bot.engine import Engine
    from bot.messages import Incoming

    now = datetime(2027, 3, 31, 4, 15, tzinfo=UTC)
    await live_through(programme, "rina", now - timedelta(days=60))
    printed = io.StringIO()
    engine = Engine(programme, Translator())
    deliverer = Deliverer(programme, {"console": ConsoleSender(printed, store=programme)})

    async def say(text: str) -> str:
        start = len(printed.getvalue())
        await engine.handle(Incoming("console", "rina", text=text, event_id=f"e-{text}"), now)
        await deliverer.drain(now)
        return printed.getvalue()[start:]

    shown = await say("record")
    assert "reflectbot record rina --out record.pdf" in shown
    number = numbered(shown, TAKEAWAY)
    changed = await say(f"বিবরণী {number} বাদ")  # "record N out", as Rina writes it
    left_out = Translator().gettext("bn", "left out")
    assert re.search(rf"^{number}\. \[{re.escape(left_out)}\] {re.escape(TAKEAWAY[:30])}", changed, re.M)
    wrong = await say("record 99 out")
    assert "99" in wrong
    record = await build_record(programme, "rina")
    assert [i.text for i in record.items if not i.included] == [TAKEAWAY]
