"""`reflectbot record PERSON --out FILE.pdf [--lang LANG] [--html]`: a participant's learning
record, as they chose it in the chat; `--approve --by COORDINATOR_ID`: a coordinator of theirs
approves it (written to the audit log). A record not approved says "draft" on every copy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from reflectbot.cli_common import UserError, fail, run


def record(
    person: Annotated[str, typer.Argument(help="the participant's id in the programme file")],
    out: Annotated[Path | None, typer.Option("--out", help="where to write the record (FILE.pdf)")] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="en, nb, bn, ne, hi or km (default: the person's language)")
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="write the HTML the PDF is made from instead")] = False,
    approve: Annotated[
        bool, typer.Option("--approve", help="approve the record as it stands (with --by)")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="the id of the coordinator who approves it")
    ] = None,
) -> None:
    """A participant's learning record as a PDF, or its approval by a coordinator of theirs."""
    from bot.i18n import LANGUAGES, Translator
    from bot.reports.record import (
        NoRecord,
        NotTheirCoordinator,
        approve_record,
        build_record,
        render_record_html,
    )
    from storage import audit

    if lang is not None and lang not in LANGUAGES:
        raise fail(f"--lang {lang!r}: choose one of {', '.join(LANGUAGES)}")
    if approve and not by:
        raise fail("--approve needs --by COORDINATOR_ID: the coordinator of theirs who approves the record")
    if by and not approve:
        raise fail("--by names who approves: add --approve")
    if not approve and out is None:
        raise fail(f"add --out FILE.pdf: where to write {person}'s record (e.g. --out {person}-record.pdf)")

    async def work(store: Any) -> tuple[bytes | None, bool]:
        now = datetime.now(UTC)
        if approve:
            assert by is not None
            made = await approve_record(store, person, by, now, audit.command_line())
        else:
            made = await build_record(store, person)
        if out is None:
            return None, made.approved
        translator = Translator()
        page = render_record_html(made, translator, lang)
        if html:
            return page.encode("utf-8"), made.approved
        from bot.reports.record_pdf import NoPdf, html_to_pdf

        try:
            return html_to_pdf(page), made.approved
        except NoPdf as exc:
            raise UserError(f"cannot make a PDF: {exc}; --html writes the HTML instead") from None

    try:
        data, approved = run(work)
    except NoRecord:
        raise fail(f"no participant {person!r} in the programme") from None
    except NotTheirCoordinator:
        raise fail(f"{by!r} is not a coordinator of {person}'s partnership: only their own coordinators approve their record") from None
    if approve:
        typer.echo(f"approved {person}'s learning record (by {by})")
    if data is not None and out is not None:
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {out} ({'approved' if approved else 'draft: not approved yet'})")


def register(app: typer.Typer) -> None:
    if "record" not in {c.name for c in app.registered_commands}:
        app.command("record")(record)
