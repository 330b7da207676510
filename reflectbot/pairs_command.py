"""`reflectbot pairs [--at ISO] [--preview]`: the current round's pairs with why each was made,
or the next round's as it would be made now, without storing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from bot.i18n import english_count
from reflectbot.cli_common import fail, parse_instant, run

REASONS = {
    "goal": "shared learning goal “{goal}”",
    "hours": "{hours} a week",
    "new": "not paired before",
    "again": "paired before: everyone available had been",
}


def _line(names: list[str], organisation: str, reason: str, goal: str, hours: int) -> str:
    shared = english_count(hours, "shared working hour", "shared working hours")
    why = REASONS.get(reason, reason).format(goal=goal, hours=shared)
    if reason == "goal":
        why += f"; {shared} a week"
    return f"  {organisation}: {' + '.join(names)} ({why})"


async def _report(store: Any, moment: datetime, preview: bool) -> list[str]:
    from bot.pairing_rounds import Pool, next_round, plan_round, round_on
    from storage.pairs import all_settings, groups_of, round_by_number

    lines: list[str] = []
    async with store.reading() as session:
        every = await all_settings(session)
        if not every:
            raise fail("no pairing in the programme: add a `pairing:` section (see examples/programme.yaml) and import it")
        for settings in every:
            pool = await Pool.load(session, settings)
            today = moment.astimezone(ZoneInfo(pool.programme.timezone)).date()
            orgs = {o.id: o.name for o in pool.organisations.values()}

            def name(person_id: str, pool: Pool = pool) -> str:
                person = pool.people.get(person_id)
                return person.name if person else f"({person_id}, forgotten)"

            when = next_round(settings, today) if preview else round_on(settings, today)
            if when is None:
                lines.append(f"{pool.programme.id}: no {'next' if preview else 'current'} round (pairing runs {settings.starts} to {settings.ends})")
                continue
            stored = None if preview else await round_by_number(session, settings.programme_id, when.number)
            if stored is not None and stored.id is not None:
                lines.append(f"{pool.programme.id}: round {when.number + 1}, from {when.day} (made {stored.made_at:%Y-%m-%d %H:%M} UTC)")
                for group in (await groups_of(session, [stored.id]))[stored.id]:
                    pair = group.pair
                    lines.append(
                        _line(
                            [name(m) for m in group.members],
                            orgs.get(pair.organisation_id, pair.organisation_id),
                            pair.reason,
                            pool.goal_texts.get(pair.goal_id or "", ""),
                            pair.overlap_hours,
                        )
                    )
                continue
            state = "preview, not stored" if preview else "not made yet; the next sweep in it makes it; as it would be now"
            lines.append(f"{pool.programme.id}: round {when.number + 1}, from {when.day} ({state})")
            _pool, groups, unpaired = await plan_round(session, settings, when)
            for planned in groups:
                lines.append(
                    _line(
                        [name(m) for m in planned.members],
                        orgs.get(planned.organisation_id, planned.organisation_id),
                        planned.reason,
                        pool.goal_texts.get(planned.goal_id or "", ""),
                        planned.overlap_hours,
                    )
                )
            if unpaired:
                lines.append("  not paired this round (no one free on the other side in their organisation): " + ", ".join(name(p) for p in unpaired))
            if not groups:
                lines.append("  nobody takes part (opted out, not opted in yet, paused, or not on exchange then)")
    return lines


def pairs(
    at: Annotated[
        str | None, typer.Option("--at", help="as of this ISO-8601 instant (default: now; no offset = UTC)")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="the next round as it would be made now, without storing it")
    ] = False,
) -> None:
    """The current round of pairs (or, with --preview, the next), with why each pair was made."""
    moment = datetime.now(UTC) if at is None else parse_instant(at)
    for line in run(lambda store: _report(store, moment, preview)):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    taken = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    if "pairs" not in taken:
        app.command("pairs")(pairs)
