"""`reflectbot audit`: the audit log, one line a row (when, what, whose, who, ids and counts)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from reflectbot.cli_common import parse_instant, run


def audit(
    since: Annotated[
        str | None, typer.Option("--since", help="from this ISO-8601 instant on (no offset = UTC)")
    ] = None,
    person: Annotated[str | None, typer.Option("--person", help="only rows about this person")] = None,
) -> None:
    """The audit log: exports, erasures (forget), retention deletions and coordinator-link uses,
    oldest first. It holds ids and counts, never what anyone wrote."""
    from storage.audit import entries

    moment = None if since is None else parse_instant(since)

    async def work(store: Any) -> list[str]:
        async with store.reading() as session:
            return [entry.line() for entry in await entries(session, since=moment, person_id=person)]

    for line in run(work):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    taken = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    if "audit" not in taken:
        app.command("audit")(audit)
