"""`reflectbot demo`: the sample programme lived through on a simulated clock, in a throwaway
database: the real sweeps and engine, with simulated participants answering from a script."""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.delivery import Deliverer
from bot.engine import Engine
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
    "adopt": "Weekly savings groups for healthcare costs.",
}
SUPPORT_SEEKER = "tanvir"  # asks for support in the midpoint reflection
SILENT = "bishal"  # does not answer his first midpoint question until the second reminder


@dataclass
class Timeline:
    out: TextIO
    zones: dict[str, ZoneInfo]
    names: dict[str, str]
    clock: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    inbox: list[Outgoing] = field(default_factory=list)

    def line(self, person_id: str, arrow: str, text: str, label: str | None = None) -> None:
        zone = self.zones.get(person_id, ZoneInfo("UTC"))
        stamp = self.clock.astimezone(zone).strftime("%Y-%m-%d %a %H:%M")
        head = f"{stamp} {zone.key:<16} {arrow} {self.names.get(person_id, person_id):<15}"
        body = " ".join(text.split())
        if label:  # a question: shown whole, since it is what the person reads
            print(f"{head} [{label}] {body}", file=self.out, flush=True)
        else:
            print(textwrap.shorten(f"{head} {body}", width=160, placeholder=" …"), file=self.out, flush=True)


class TimelineSender:
    """Delivers to the terminal as one dated line per message."""

    platform = "console"
    supports = frozenset({Op.MESSAGE})

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.count = 0

    async def send(self, delivery: Delivery, message: Outgoing) -> str:
        self.count += 1
        self.timeline.inbox.append(message)
        arrow = {"alert": "!!", "digest": "##", "panel-pack": "##"}.get(message.kind, "→")
        self.timeline.line(message.person_id or delivery.address, arrow, message.text, message.progress_label)
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
        timeline.clock += timedelta(minutes=7)
        timeline.line(person, "←", reply)
        await engine.handle(Incoming("console", person, text=reply), timeline.clock)
        await deliverer.drain(timeline.clock)


async def _open(store: Store) -> bool:
    async with store.session() as session:
        return (
            await session.exec(
                select(Conversation.id).where(col(Conversation.status).in_((ConversationStatus.OPEN, ConversationStatus.PENDING)))
            )
        ).first() is not None


async def _question_key(engine: Engine, question_id: int) -> str:
    from storage.models import Question

    async with engine.store.session() as session:
        question = await session.get(Question, question_id)
        return question.key if question else ""


async def run_demo(programme: Path, out: TextIO) -> int:
    """Never waits for input: the participants are simulated."""
    with tempfile.TemporaryDirectory(prefix="reflectbot-demo-") as tmp:
        store = Store(f"sqlite:///{tmp}/demo.db")
        try:
            await migrate(store)
            summary = await import_programme(store, programme)
            async with store.session() as session:
                people = list((await session.exec(select(Person))).all())
                settings = (await session.exec(select(Programme))).one()
            zones = {p.id: ZoneInfo(p.timezone or settings.timezone) for p in people}
            timeline = Timeline(out, zones, {p.id: p.name for p in people})
            engine = Engine(store)
            deliverer = Deliverer(store, {"console": TimelineSender(timeline)})
            sweeps = Sweeps(engine, deliverer)
            participants = [p for p in people if p.role == "participant"]
            first = min(p.start for p in participants if p.start)
            last = max(p.end for p in participants if p.end)
            print(
                f"reflectbot demo: {summary.programme}, {len(participants)} participants, "
                f"{first} to {last}, on a simulated clock (local times are each recipient's own).\n",
                file=out,
            )
            reminders: dict[str, int] = {}
            async with store.session() as session:
                directory = await Directory.load(session)
            due = sorted(p.due_at for person in participants for p in directory.plan(person))
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
                if (
                    not digest_tick
                    and not any(previous < d <= moment for d in due)
                    and not await _open(store)
                ):
                    previous = moment
                    continue
                previous = moment
                timeline.clock = moment
                await sweeps.run_all(moment)
                await _answer(engine, deliverer, timeline, reminders)
            print(f"\n{deliverer.senders['console'].count} messages sent.", file=out)  # type: ignore[attr-defined]
        finally:
            await store.close()
    return 0


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
