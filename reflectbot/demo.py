"""`reflectbot demo`: the sample programme lived through on a simulated clock, in a throwaway
database: the real sweeps and engine, with simulated participants answering from a script."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
from bot.i18n import english_count as plural
from bot.messages import Delivery, Incoming, Op, Outgoing
from bot.plan import Directory
from scheduler.sweeps import Sweeps
from storage.db import Store
from storage.importer import import_programme
from storage.migrate import migrate
from storage.models import Conversation, ConversationStatus, Person, Programme
from storage.programme_file import local_time

# What the simulated participants answer, by question key (choice answers by number).
SCRIPT = {
    "observations": "Patients pay into a community fund before they fall ill.",
    "learning": "Small weekly savings add up; the groups decide together who may borrow.",
    "achievements": "I ran a savings-group meeting on my own.",
    "next_steps": "Write a short guide for our field staff.",
    "opportunities": "A health savings scheme with our partner clinics.",
    "aha": "Saving together makes people plan for illness before it comes.",
    "aha_consent": "1",
    "support": "1",
    "aha_1": "Grandmothers decide what children eat, so they must be in the training.",
    "aha_1_consent": "2",
    "aha_2": "skip",
    "aha_3": "skip",
    "takeaway": "Ask the community first; the manual comes second.",
    "takeaway_consent": "1",
    "discussion": "How do we keep savings groups going after the exchange?",
    "discussion_consent": "1",
    "outcomes": "1,2",
    "outcome_technical-competence": "I can now train groups in the 12 family practices.",
    "outcome_organisational-development": "Our training manual has a new chapter.",
    "goal_progress": "4",
    "goal_progress_why": "I have tried it out, but not yet on my own.",
    "adopt": "Weekly savings groups for healthcare costs.",
}
SUPPORT_SEEKER = "tanvir"  # asks for support in the midpoint reflection
SILENT = "bishal"  # does not answer his first midpoint question until the second reminder


@dataclass
class Timeline:
    """One line per message, stamped in UTC so the lines read in true time order, with the
    recipient's own local time beside it (prompts come at 10:00 *their* time)."""

    out: TextIO
    zones: dict[str, ZoneInfo]
    names: dict[str, str]
    files: Path
    clock: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    inbox: list[Outgoing] = field(default_factory=list)
    # Replies since each coordinator's last digest: a digest of a week without any is left out.
    activity: int = 0
    since_digest: dict[str, int] = field(default_factory=dict)
    empty_digests: int = 0
    last_digest: datetime | None = None

    def line(self, person_id: str, arrow: str, text: str) -> None:
        zone = self.zones.get(person_id, ZoneInfo("UTC"))
        local = self.clock.astimezone(zone).strftime("%H:%M")
        stamp = self.clock.strftime("%Y-%m-%d %a %H:%M UTC")
        name = self.names.get(person_id, person_id)
        print(f"{stamp} ({local} {zone.key:<16}) {arrow} {name:<15} {text}", file=self.out, flush=True)

    def report(self, person_id: str, message: Outgoing) -> None:
        """A digest or panel pack: kept whole in a file, summarised in one line."""
        if message.kind == "digest":
            answers = self.activity - self.since_digest.get(person_id, 0)
            if answers == 0:
                self.empty_digests += 1
                return
            self.since_digest[person_id] = self.activity
            self.last_digest = self.clock
            path = self.files / "digests" / f"{self.clock:%Y-%m-%d}-{person_id}.txt"
            what = f"weekly digest ({answers} answers in the programme since the last)"
        else:
            path = self.files / f"panel-pack-{self.clock:%Y-%m-%d}.txt"
            what = "panel pack"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message.text + "\n", encoding="utf-8")
        first = message.text.strip().splitlines()[0] if message.text.strip() else what
        self.line(person_id, "##", f"{what}: {' '.join(first.split())} → {path}")


def _question(message: Outgoing) -> str:
    body = " ".join(message.text.split())
    head = f"[{message.progress_label}] " if message.progress_label else ""
    if message.question_kind == "scale":
        return f"{head}{body}  (1–5)"
    options = "  ".join(f"{n}. {c.label}" for n, c in enumerate(message.choices, 1))
    return f"{head}{body}" + (f"  {{{options}}}" if options else "")


def _chosen(message: Outgoing, reply: str) -> str:
    """A numbered answer with the labels it chose, as the coordinator will read it."""
    if message.question_kind not in ("single", "multi") or not message.choices:
        return reply
    labels = []
    for part in reply.split(","):
        if part.strip().isdigit() and 1 <= int(part) <= len(message.choices):
            labels.append(message.choices[int(part) - 1].label)
    return f"{reply} ({'; '.join(labels)})" if labels else reply


class TimelineSender:
    """Delivers to the terminal as one dated line per message."""

    platform = "console"
    supports = frozenset({Op.MESSAGE})

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.count = 0

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.count += 1
        person = message.person_id or delivery.address
        if message.kind in ("digest", "panel-pack"):
            self.timeline.report(person, message)
        else:
            self.timeline.inbox.append(message)
            arrow = "!!" if message.kind == "alert" else "→"
            text = _question(message) if message.kind == "question" else " ".join(message.text.split())
            self.timeline.line(person, arrow, text)
        return f"demo-{self.count}"


async def _answer(
    engine: Engine, deliverer: Deliverer, timeline: Timeline, reminders: dict[str, int]
) -> None:
    """Simulated participants answer every question that reached them, from the script."""
    while timeline.inbox:
        message = timeline.inbox.pop(0)
        if message.kind != "question" or message.question_id is None:
            continue
        person = message.person_id
        if person == SILENT and "midpoint" == message.flow and reminders.setdefault(person, 0) < 2:
            if "\n" in message.text:  # a reminder carries the question on its second line
                reminders[person] += 1
            if reminders[person] < 2:
                continue
        key = await _question_key(engine, message.question_id)
        reply = SCRIPT.get(key, "1" if message.question_kind in ("single", "multi", "scale") else "Thank you.")
        if key == "support" and person == SUPPORT_SEEKER:
            reply = "2"
        if key == "support_note":
            reply = "My visa needs renewing before June."
        if key == "goal_progress":  # where they stand rises over the exchange
            reply = {"welcome": "2", "midpoint": "3"}.get(message.flow or "", reply)
        timeline.clock += timedelta(minutes=7)
        timeline.activity += 1
        timeline.line(person, "←", _chosen(message, reply))
        await engine.handle(Incoming("console", person, text=reply), timeline.clock)
        await deliverer.drain(timeline.clock)


async def _open(store: Store) -> bool:
    async with store.session() as session:
        return (
            await session.exec(
                select(Conversation.id).where(col(Conversation.status).in_(
                    (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.WAITING)
                ))
            )
        ).first() is not None


async def _question_key(engine: Engine, question_id: int) -> str:
    from storage.models import Question

    async with engine.store.session() as session:
        question = await session.get(Question, question_id)
        return question.key if question else ""


MARKER = ".reflectbot-demo"  # only a directory the demo made is emptied when it runs again
DEMO_FILES = ("reflectbot.db", "reflectbot.db-wal", "reflectbot.db-shm", "outcomes.html", "digests")


class DemoDirectoryTaken(Exception):
    """The demo's directory holds something the demo did not make."""


def _fresh(directory: Path) -> None:
    """Start afresh: a demo run again replaces the last one's database and files."""
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        raise DemoDirectoryTaken(f"{directory} holds files the demo did not make; choose another --dir")
    directory.mkdir(parents=True, exist_ok=True)
    for child in directory.iterdir():
        if child.name in DEMO_FILES or child.name.startswith(("panel-pack-", "digest-")):
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (directory / MARKER).write_text("made by `reflectbot demo`; emptied when it runs again\n", encoding="utf-8")


async def _in_english(store: Store) -> None:
    """The demo reads in English unless --as-written: the sample people write Bengali, Hindi,
    Nepali and Khmer, which an English reader of the timeline could not follow."""
    async with store.session() as session:
        for row in (await session.exec(select(Person))).all():
            row.language = "en"
            session.add(row)
        for programme in (await session.exec(select(Programme))).all():
            programme.language = "en"
            session.add(programme)


async def _write_reports(store: Store, directory: Path, moment: datetime) -> list[tuple[Path, str]]:
    """The digest, panel pack and outcome report as files a browser opens."""
    from bot.i18n import Translator
    from bot.reports import digest, outcome_report, panel_pack
    from bot.reports.outcomes import build_outcomes
    from storage.models import Panel

    translator = Translator()
    written: list[tuple[Path, str]] = []
    async with store.session() as session:
        coordinators = [p.id for p in (await session.exec(select(Person))).all() if p.role == "coordinator"]
        panels = [p.id for p in (await session.exec(select(Panel))).all()]
    for coordinator in coordinators:
        path = directory / f"digest-{coordinator}.html"
        built = await digest.build_digest(store, coordinator, moment)
        path.write_text(digest.render_html(built, translator), encoding="utf-8")
        written.append((path, f"{built.coordinator_name}'s digest, as of {moment:%Y-%m-%d %H:%M} UTC"))
    for panel in panels:
        path = directory / f"panel-pack-{panel}.html"
        pack = await panel_pack.build_panel_pack(store, panel)
        path.write_text(panel_pack.render_html(pack, translator), encoding="utf-8")
        written.append((path, "the panel pack: consented aha moments, takeaways, questions"))
    path = directory / "outcomes.html"
    report = await build_outcomes(store)
    path.write_text(outcome_report.render_html(report, translator, None, moment), encoding="utf-8")
    written.append((path, "the learning-outcome report with its chart"))
    return written


async def run_demo(programme: Path, out: TextIO, directory: Path = Path("demo"), as_written: bool = False) -> int:
    """Never waits for input: the participants are simulated. Leaves its database and the
    reports it made in `directory`, and says how to explore them."""
    _fresh(directory)
    database = directory / "reflectbot.db"
    store = Store(f"sqlite:///{database.resolve()}")
    try:
        await migrate(store)
        summary = await import_programme(store, programme)
        if not as_written:
            await _in_english(store)
        async with store.session() as session:
            people = list((await session.exec(select(Person))).all())
            settings = (await session.exec(select(Programme))).one()
        zones = {p.id: ZoneInfo(p.timezone or settings.timezone) for p in people}
        timeline = Timeline(out, zones, {p.id: p.name for p in people}, directory)
        engine = Engine(store)
        deliverer = Deliverer(store, {"console": TimelineSender(timeline)})
        sweeps = Sweeps(engine, deliverer)
        participants = [p for p in people if p.role == "participant"]
        first = min(p.start for p in participants if p.start)
        last = max(p.end for p in participants if p.end)
        print(
            f"reflectbot demo: {summary.programme}, {plural(len(participants), 'participant', 'participants')}, "
            f"{first} to {last}, "
            f"on a simulated clock; each line shows UTC and the recipient's own local time.\n",
            file=out,
        )
        reminders: dict[str, int] = {}
        async with store.session() as session:
            directory_of_plans = await Directory.load(session)
        due = sorted(p.due_at for person in participants for p in directory_of_plans.plan(person))
        digest_day = settings.digest_every.split()[0][:3].lower()
        previous = datetime.min.replace(tzinfo=UTC)
        for moment in _ticks(first - timedelta(days=1), last + timedelta(days=1), people, settings):
            # A quiet day (nothing open, nothing falling due, no digest) is skipped to keep
            # the demo short; the sweeps themselves would find nothing to do on it.
            digest_tick = any(
                moment.astimezone(zones[c.id]).strftime("%a").lower() == digest_day
                for c in people
                if c.role == "coordinator"
            )
            if not digest_tick and not any(previous < d <= moment for d in due) and not await _open(store):
                previous = moment
                continue
            previous = moment
            # Answers move the clock on (7 minutes each): a sweep due meanwhile runs after them,
            # so the timeline never goes back in time.
            timeline.clock = max(moment, timeline.clock)
            await sweeps.run_all(timeline.clock)
            await _answer(engine, deliverer, timeline, reminders)
        written = await _write_reports(store, directory, timeline.last_digest or timeline.clock)
    finally:
        await store.close()
    sent = deliverer.senders["console"].count  # type: ignore[attr-defined]
    _explore(out, sent, timeline, written, database)
    return 0


def _explore(out: TextIO, sent: int, timeline: Timeline, written: list[tuple[Path, str]], database: Path) -> None:
    print(
        f"\n{plural(sent, 'message', 'messages')} sent; "
        f"{plural(timeline.empty_digests, 'weekly digest', 'weekly digests')} of weeks without answers left out.",
        file=out,
    )
    print("\nWhat the demo left behind (open the .html files in a browser):", file=out)
    for path, what in written:
        print(f"  {path}  {what}", file=out)
    print(f"  {timeline.files / 'digests'}/  every weekly digest as it was sent", file=out)
    at = (timeline.last_digest or timeline.clock).strftime("%Y-%m-%dT%H:%M")
    env = f"DATABASE_URL=sqlite:///{database}"
    print("\nExplore the same data (these commands use only the demo's database):", file=out)
    for command in (
        "chat --as rina",
        "export rina",
        f"digest --coordinator ingrid --at {at}",
        "panel-pack spring-panel",
        "outcomes --format html --out demo/outcomes.html",
    ):
        print(f"  {env} .venv/bin/reflectbot {command}", file=out)


def _ticks(first: date, last: date, people: list[Person], settings: Programme) -> list[datetime]:
    """The instants worth a sweep: each participant time zone's prompt time every day, and each
    coordinator's digest time on the digest weekday."""
    prompt = local_time(settings.prompt_time)
    weekday, at = settings.digest_every.lower().split()
    digest = local_time(at)
    participant_zones = sorted({p.timezone or settings.timezone for p in people if p.role == "participant"})
    coordinator_zones = sorted({p.timezone or settings.timezone for p in people if p.role == "coordinator"})
    moments = set()
    day = first
    while day <= last:
        for key in participant_zones:
            moments.add(datetime.combine(day, prompt, tzinfo=ZoneInfo(key)).astimezone(UTC))
        if day.strftime("%a").lower() == weekday[:3]:
            for key in coordinator_zones:
                moments.add(datetime.combine(day, digest, tzinfo=ZoneInfo(key)).astimezone(UTC))
        day += timedelta(days=1)
    return sorted(moments)
