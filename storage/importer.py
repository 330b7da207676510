"""`reflectbot import FILE`: write a checked programme file in one transaction.

Importing the same file again changes no row: existing rows are updated in place (SQLAlchemy
issues no UPDATE when nothing changed) and link rows are added or removed one by one. A person
who was forgotten stays a placeholder: their name, identities and goals are not brought back.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Store
from storage.models import (
    ChatIdentity,
    CoordinatorPartnership,
    LearningGoal,
    Organisation,
    Panel,
    PanelPresenter,
    Partnership,
    PartnershipOrganisation,
    Person,
    PersonGoal,
    Programme,
)
from storage.outbox import set_aside_unsent
from storage.pairing_tables import Interest, PairingSettings
from storage.people import lock_programme_people
from storage.programme_file import ProgrammeFile, every_days, load_programme_file

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=SQLModel)
L = TypeVar("L", CoordinatorPartnership, PersonGoal, Interest)


@dataclass(frozen=True)
class ImportSummary:
    programme: str
    organisations: int
    partnerships: int
    people: int
    panels: int
    forgotten_kept: int
    # Names of people no longer in the file (asked nothing more) and of people listed again.
    left: tuple[str, ...] = ()
    came_back: tuple[str, ...] = ()
    # Months after an exchange ends that what the person wrote is deleted (None: kept).
    retention_months: int | None = None
    # (what, how) → count, e.g. ("person", "updated") → 1: what this import changed.
    changes: dict[tuple[str, str], int] = field(default_factory=dict)

    def changes_line(self) -> str:
        if not self.changes:
            return "nothing changed: the database already held this file"
        plurals = {"person": "people", "chat identity": "chat identities"}
        parts = [
            f"{n} {what if n == 1 else plurals.get(what, what + 's')} {how}"
            for (what, how), n in sorted(self.changes.items())
        ]
        return "changed: " + ", ".join(parts)

    def retention_line(self) -> str:
        if self.retention_months is None:
            return "retention: off (answers, notes and exports are kept until someone is forgotten)"
        months = "1 month" if self.retention_months == 1 else f"{self.retention_months} months"
        return f"retention: answers, notes and exports are deleted {months} after each exchange ends"


async def import_programme(store: Store, path: Path) -> ImportSummary:
    """Check the whole file first; write nothing unless all of it is valid."""
    spec = load_programme_file(path)
    async with store.session() as session:
        await lock_programme_people(session, spec.programme.id)
        summary = await _write(session, spec)
        summary.changes.update(_changes(session))
        if summary.changes:
            # Dates, calendars or panels may have moved: every plan is computed again.
            await session.exec(
                update(Person)
                .where(col(Person.programme_id) == summary.programme)
                .values(plan_version=Person.plan_version + 1)
            )
    logger.info(
        "imported programme %s: %d organisations, %d partnerships, %d people, %d panels",
        summary.programme,
        summary.organisations,
        summary.partnerships,
        summary.people,
        summary.panels,
    )
    return summary


def _changes(session: AsyncSession) -> Counter[tuple[str, str]]:
    """The tally `_note` keeps for the session, so the summary can say what an import changed."""
    return session.info.setdefault("reflectbot_changes", Counter())


def _note(session: AsyncSession, model: type[SQLModel], how: str) -> None:
    what = {"chatidentity": "chat identity", "learninggoal": "learning goal", "pairingsettings": "pairing setting"}.get(
        model.__name__.lower(), model.__name__.lower()
    )
    link = {"PartnershipOrganisation", "CoordinatorPartnership", "PersonGoal", "PanelPresenter", "Interest"}
    _changes(session)["link" if model.__name__ in link else what, how] += 1


async def _upsert(session: AsyncSession, model: type[M], key: Any, **values: Any) -> M:
    row = await session.get(model, key)
    if row is None:
        row = model(**values)
        session.add(row)
        _note(session, model, "added")
    else:
        changed = False
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if changed:
            _note(session, model, "updated")
    return row


async def _sync_links(
    session: AsyncSession,
    model: type[M],
    owner: dict[str, Any],
    wanted: list[dict[str, Any]],
    existing: list[M] | None = None,
) -> None:
    """Make the link rows of one owner exactly `wanted`, touching only those that differ.
    `existing`: the owner's rows when the caller read them all at once (a large file)."""
    if existing is None:
        filters = [getattr(model, k) == v for k, v in owner.items()]
        existing = list((await session.exec(select(model).where(*filters))).all())
    link_key = [c.name for c in model.__table__.primary_key.columns if c.name not in owner]  # type: ignore[attr-defined]
    by_key = {tuple(getattr(row, k) for k in link_key): row for row in existing}
    wanted_keys = set()
    for values in wanted:
        key = tuple(values[k] for k in link_key)
        wanted_keys.add(key)
        row = by_key.get(key)
        if row is None:
            session.add(model(**owner, **values))
            _note(session, model, "added")
        else:
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
    removed = False
    for key, row in by_key.items():
        if key not in wanted_keys:
            await session.delete(row)
            _note(session, model, "removed")
            removed = True
    if removed:
        await session.flush()


@dataclass
class _Identities:
    """Every chat identity, read once, kept in step as the import changes them."""

    by_person: dict[str, list[ChatIdentity]]
    by_address: dict[tuple[str, str], ChatIdentity]

    @classmethod
    async def load(cls, session: AsyncSession) -> _Identities:
        rows = (await session.exec(select(ChatIdentity))).all()
        by_person: dict[str, list[ChatIdentity]] = defaultdict(list)
        for row in rows:
            by_person[row.person_id].append(row)
        return cls(by_person, {(r.platform, r.external_id): r for r in rows})


async def _sync_identities(
    session: AsyncSession, person_id: str, wanted: dict[str, str], known: _Identities
) -> None:
    removed = False
    for row in list(known.by_person.get(person_id, [])):
        if wanted.get(row.platform) != row.external_id:
            await session.delete(row)
            known.by_person[person_id].remove(row)
            known.by_address.pop((row.platform, row.external_id), None)
            _note(session, ChatIdentity, "removed")
            removed = True
    if removed:
        await session.flush()  # gone before an identity with the same address is added
    for platform, external_id in wanted.items():
        holder = known.by_address.get((platform, external_id))
        if holder is None:
            row = ChatIdentity(person_id=person_id, platform=platform, external_id=external_id)
            session.add(row)
            known.by_person[person_id].append(row)
            known.by_address[(platform, external_id)] = row
            _note(session, ChatIdentity, "added")
        elif holder.person_id != person_id:
            # The id moved to another person in the file: it is theirs now.
            known.by_person[holder.person_id].remove(holder)
            known.by_person[person_id].append(holder)
            holder.person_id = person_id
            holder.reference = None


async def _write(session: AsyncSession, spec: ProgrammeFile) -> ImportSummary:
    p = spec.programme
    programme_id = p.id
    await _upsert(
        session,
        Programme,
        programme_id,
        id=programme_id,
        name=p.name,
        timezone=p.timezone,
        language=p.language,
        teams_tenant=p.teams_tenant,
        reflection_days=p.midpoint.reflection_days,
        prompt_time=p.midpoint.prompt_time,
        reminder_after_days=p.reminders.after_days,
        reminder_max=p.reminders.max,
        digest_every=p.digest.every,
        retention_months=p.retention.delete_after_months,
        follow_up_months=",".join(str(m) for m in p.follow_ups.after_months),
    )
    await session.flush()
    for o in spec.organisations:
        await _upsert(
            session,
            Organisation,
            o.id,
            id=o.id,
            programme_id=programme_id,
            name=o.name,
            country=o.country,
            workdays=",".join(o.workdays or ["mon", "tue", "wed", "thu", "fri"]),
        )
    await session.flush()
    # Read once and held (the session keeps rows only weakly): each upsert below then finds its
    # row without a query, as a file of a hundred partnerships would otherwise cost hundreds.
    held = [*(await session.exec(select(Partnership))).all(), *(await session.exec(select(LearningGoal))).all()]
    linked: dict[str, list[PartnershipOrganisation]] = defaultdict(list)
    for link in (await session.exec(select(PartnershipOrganisation))).all():
        linked[link.partnership_id].append(link)
    for part in spec.partnerships:
        await _upsert(session, Partnership, part.id, id=part.id, programme_id=programme_id, name=part.name)
    await session.flush()
    for part in spec.partnerships:
        await _sync_links(
            session,
            PartnershipOrganisation,
            {"partnership_id": part.id},
            [{"organisation_id": org, "position": i} for i, org in enumerate(part.organisations)],
            linked.get(part.id, []),
        )
        for i, g in enumerate(part.learning_goals):
            await _upsert(
                session,
                LearningGoal,
                g.id,
                id=g.id,
                partnership_id=part.id,
                text=g.text,
                outcome=g.outcome,
                position=i,
            )
    await session.flush()
    del held

    forgotten_kept = 0
    people: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    for c in spec.coordinators:
        people.append(
            (
                "coordinator",
                {
                    "id": c.id,
                    "name": c.name,
                    "timezone": c.timezone,
                    "language": c.language,
                },
                _identities(c),
            )
        )
    for pt in spec.participants:
        people.append(
            (
                "participant",
                {
                    "id": pt.id,
                    "name": pt.name,
                    "timezone": pt.timezone,
                    "language": pt.language,
                    "partnership_id": pt.partnership,
                    "home_organisation_id": pt.home,
                    "host_organisation_id": pt.host,
                    "start": pt.start,
                    "end": pt.end,
                },
                _identities(pt),
            )
        )
    for colleague in spec.colleagues:
        people.append(
            (
                "colleague",
                {
                    "id": colleague.id,
                    "name": colleague.name,
                    "timezone": colleague.timezone,
                    "language": colleague.language,
                    "organisation_id": colleague.organisation,
                },
                _identities(colleague),
            )
        )

    # Read once, so that a file of thousands of people costs a few statements, not a few per
    # person: `session.get` then finds each row in the session, and one flush writes them all.
    stored = {p.id: p for p in (await session.exec(select(Person))).all()}
    known = await _Identities.load(session)
    came_back: list[str] = []
    for role, values, _wanted in people:
        existing = stored.get(values["id"])
        if existing is not None and existing.forgotten:
            forgotten_kept += 1
            continue
        if existing is not None and existing.left_at is not None:
            existing.left_at = None
            came_back.append(values["name"])
        if existing is None:
            # Not stored (all were read above): no lookup. Kept in `stored`, as the session
            # holds its rows only weakly and would read each one again for its links.
            stored[values["id"]] = Person(programme_id=programme_id, role=role, **values)
            session.add(stored[values["id"]])
            _note(session, Person, "added")
        else:
            await _upsert(session, Person, values["id"], programme_id=programme_id, role=role, **values)
    await session.flush()  # every person before their identities and links
    forgotten = {person_id for person_id, person in stored.items() if person.forgotten}
    for _role, values, identities in people:
        if values["id"] not in forgotten:
            await _sync_identities(session, values["id"], identities, known)
    await session.flush()
    left = await _mark_left(session, programme_id, {values["id"] for _, values, _ in people})

    coordinator_links = _by_owner((await session.exec(select(CoordinatorPartnership))).all())
    for c in spec.coordinators:
        if c.id not in forgotten:
            await _sync_links(
                session,
                CoordinatorPartnership,
                {"person_id": c.id},
                [{"partnership_id": ref} for ref in c.partnerships],
                coordinator_links.get(c.id, []),
            )
    goal_links = _by_owner((await session.exec(select(PersonGoal))).all())
    for pt in spec.participants:
        if pt.id not in forgotten:
            await _sync_links(
                session,
                PersonGoal,
                {"person_id": pt.id},
                [{"goal_id": g, "position": i} for i, g in enumerate(pt.learning_goals)],
                goal_links.get(pt.id, []),
            )
    await session.flush()

    interests = _by_owner((await session.exec(select(Interest))).all())
    for col_ in spec.colleagues:
        if col_.id not in forgotten:
            await _sync_links(
                session,
                Interest,
                {"person_id": col_.id},
                [{"goal_id": g, "position": i} for i, g in enumerate(col_.interests)],
                interests.get(col_.id, []),
            )
    await _write_pairing(session, spec)

    for panel in spec.panels:
        zone = ZoneInfo(panel.timezone or p.timezone)
        at = panel.at.replace(tzinfo=zone) if panel.at.tzinfo is None else panel.at
        await _upsert(
            session,
            Panel,
            panel.id,
            id=panel.id,
            programme_id=programme_id,
            title=panel.title,
            at=at.astimezone(UTC),
            timezone=panel.timezone or p.timezone,
            place=panel.place,
            prep_days_before=panel.prep_days_before,
            slack_channel=panel.audience.slack_channel,
            teams_channel=panel.audience.teams_channel,
        )
        await session.flush()
        await _sync_links(
            session,
            PanelPresenter,
            {"panel_id": panel.id},
            [{"person_id": ref, "position": i} for i, ref in enumerate(panel.presenters)],
        )
    return ImportSummary(
        programme=programme_id,
        organisations=len(spec.organisations),
        partnerships=len(spec.partnerships),
        people=len(people),
        panels=len(spec.panels),
        forgotten_kept=forgotten_kept,
        left=tuple(left),
        came_back=tuple(came_back),
        retention_months=p.retention.delete_after_months,
    )


async def _write_pairing(session: AsyncSession, spec: ProgrammeFile) -> None:
    """The pairing settings; rounds already made keep their pairs (the next round uses these)."""
    programme_id, pairing = spec.programme.id, spec.pairing
    if pairing is None:
        existing = await session.get(PairingSettings, programme_id)
        if existing is not None:
            await session.delete(existing)
            _note(session, PairingSettings, "removed")
        return
    await _upsert(
        session,
        PairingSettings,
        programme_id,
        programme_id=programme_id,
        every_days=every_days(pairing.every),
        starts=pairing.from_,
        ends=pairing.until,
        who=pairing.who,
        ask=pairing.ask,
        check_back_after_days=pairing.check_back_after_days,
        returned_within_days=pairing.returned_within_days,
    )
    await session.flush()


async def _mark_left(session: AsyncSession, programme_id: str, listed: set[str]) -> list[str]:
    """Everyone of the programme the file no longer lists has left: nothing more is sent to
    them (what was waiting to go is set aside), and what they wrote stays until `forget`."""
    query = select(Person).where(
        Person.programme_id == programme_id,
        Person.forgotten == False,  # noqa: E712
        Person.left_at == None,  # noqa: E711
    )
    left = []
    now = datetime.now(UTC)
    for person in (await session.exec(query)).all():
        if person.id in listed:
            continue
        person.left_at = now
        session.add(person)
        await set_aside_unsent(session, person.id)
        left.append(person.name)
        logger.info("person %s left the programme", person.id)
    await session.flush()
    return sorted(left)


def _by_owner(rows: Sequence[L]) -> dict[str, list[L]]:
    owned: dict[str, list[L]] = defaultdict(list)
    for row in rows:
        owned[row.person_id].append(row)
    return owned


def _identities(person: Any) -> dict[str, str]:
    return {
        platform: getattr(person, platform) for platform in ("slack", "teams") if getattr(person, platform)
    }
