"""The `reflectbot` command. Each command builds settings and the store once and passes them on."""

from __future__ import annotations

import asyncio
import errno
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.i18n import english_count
from reflectbot.audit_command import register as _register_audit_command
from reflectbot.cli_common import (
    App,
    Options,
    UserError,
    announce_database,
    database_errors,
    fail,
    load_settings,
    parse_instant,
    ready_store,
    run,
)
from reflectbot.link_command import register as _register_link_command
from reflectbot.output_commands import register as _register_output_commands
from reflectbot.pairs_command import register as _register_pairs_command
from reflectbot.record_command import register as _register_record_command

app = App(
    help="reflectbot: reflection conversations for work-exchange programmes, in Slack, Teams or the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "programme.yaml"
# A cron job's clock may lag a little; a day away is a different day's prompts.
FAR_FROM_NOW = timedelta(hours=1)


@app.callback()
def options(
    debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an error")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log everything (DEBUG)")] = False,
) -> None:
    Options.debug, Options.verbose = debug, verbose


# The command line speaks English.
plural = english_count


@app.command()
def init() -> None:
    """Create or migrate the database (DATABASE_URL); every other command needs it done."""
    from storage.db import describe
    from storage.migrate import head_revision

    settings = load_settings()

    async def work(store: Any) -> None:
        return None

    run(work, settings, create=True)
    typer.echo(f"database ready: {describe(settings.database_url)} (revision {head_revision()})")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="programme file (YAML)")]) -> None:
    """Import or update a programme file. Nothing is written unless the whole file is valid."""
    from storage.importer import import_programme
    from storage.programme_file import ProgrammeFileError

    try:
        summary = run(lambda store: import_programme(store, file))
    except ProgrammeFileError as exc:
        typer.echo(f"{file}: not imported, nothing was changed:", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(
        f"imported {summary.programme}: {plural(summary.organisations, 'organisation', 'organisations')}, "
        f"{plural(summary.partnerships, 'partnership', 'partnerships')}, "
        f"{plural(summary.people, 'person', 'people')}, {plural(summary.panels, 'panel', 'panels')}"
        + (
            f" ({plural(summary.forgotten_kept, 'forgotten person', 'forgotten people')} left forgotten)"
            if summary.forgotten_kept
            else ""
        )
    )
    typer.echo(summary.changes_line())
    if summary.left:
        typer.echo(
            "left the programme, no longer in the file (asked nothing more; what they wrote is "
            "kept until `reflectbot forget`): " + ", ".join(summary.left)
        )
    if summary.came_back:
        typer.echo("back in the programme: " + ", ".join(summary.came_back))
    typer.echo(summary.retention_line())


@app.command()
def chat(person: Annotated[str, typer.Option("--as", help="the person's id in the programme file")]) -> None:
    """Talk to the bot as PERSON in the terminal, on the database in DATABASE_URL: says where they
    are, then waits for their words (`now` starts their next conversation early)."""
    from adapters.console.chat import chat as run_chat
    from bot.engine import Engine
    from reflectbot.whereabouts import where_is

    async def work(store: Any) -> int:
        now = datetime.now(UTC)
        where = await where_is(store, person, now)
        if where is None:
            raise fail(f"no person {person!r} in the programme (import a programme file first)")
        typer.echo(where.line, err=True)
        return await run_chat(
            Engine(store),
            person,
            sys.stdin,
            sys.stdout,
            lambda: datetime.now(UTC),
            echo=not sys.stdin.isatty(),
            start=where.waiting_for_answer,
        )

    run(work)


@app.command()
def export(
    person: Annotated[str, typer.Argument(help="the person's id")],
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (- for stdout)")] = None,
) -> None:
    """Print (or write) that person's data as JSON."""
    from bot.privacy import UnknownPerson, export_person
    from reflectbot.output_commands import write_text
    from storage.audit import command_line

    try:
        data = run(lambda store: export_person(store, person, audited_as=command_line()))
    except UnknownPerson:
        raise fail(f"no person {person!r}") from None
    write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", out)


@app.command()
def forget(
    person: Annotated[str, typer.Argument(help="the person's id")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask (for scripts)")] = False,
) -> None:
    """Delete that person's reflections, aha moments and chat identities. Asks first."""
    from bot.privacy import UnknownPerson, forget_person
    from storage.audit import command_line

    if not yes:
        if not sys.stdin.isatty():
            raise fail(f"forget deletes what {person} wrote for good: confirm with --yes")
        if not typer.confirm(f"Delete everything {person} wrote and how to reach them, for good?"):
            raise fail("nothing was deleted")
    try:
        counts = run(lambda store: forget_person(store, person, actor=command_line()))
    except UnknownPerson:
        raise fail(f"no person {person!r}") from None
    typer.echo(
        f"forgot {person}: " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
    )


@app.command()
def tick(
    at: Annotated[
        str | None, typer.Option("--at", help="ISO-8601 instant (default: now); without an offset it is UTC")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="run as of a time far from now anyway")] = False,
) -> None:
    """Run every sweep once as of that instant, drain the outbox, then exit (cron's `serve`)."""
    from reflectbot.server import build_server

    now = datetime.now(UTC)
    moment = now if at is None else parse_instant(at)
    # The sweeps send real prompts, as they would be sent at `moment`: a time far from now is
    # almost always a copied example, not a wish to send a day's prompts early (or late).
    if abs(moment - now) > FAR_FROM_NOW and not yes:
        raise fail(
            f"--at {at} is {abs(moment - now).days} days from now: tick would send real prompts as if "
            "it were then; leave --at out for now, or add --yes if you mean it"
        )
    settings = load_settings()
    announce_database(settings)

    async def main() -> None:
        await (await ready_store(settings)).close()
        server = await build_server(settings)
        try:
            report = await server.tick(moment)
        finally:
            await server.close()
        typer.echo(
            f"tick {moment.isoformat()}: "
            f"{plural(report.started, 'conversation', 'conversations')} started, "
            f"{plural(report.groups_opened, 'day', 'days')} opened, "
            f"{plural(report.reminders, 'reminder', 'reminders')}, {plural(report.digests, 'digest', 'digests')}, "
            f"{plural(report.panel_packs, 'panel pack', 'panel packs')}; "
            f"{report.drained.sent} sent, {report.drained.retried} to retry, {report.drained.failed} failed"
            + (
                f"; retention: deleted what {plural(report.retention, 'person', 'people')} wrote"
                if report.retention
                else ""
            ),
            err=True,
        )

    with database_errors(settings):
        asyncio.run(main())


@app.command()
def serve() -> None:
    """One HTTP server (POST /slack/events, POST /api/messages, GET /healthz) and the scheduler."""
    from reflectbot.server import serve as run_server

    settings = load_settings(interactive=False)
    announce_database(settings)

    async def main() -> None:
        await (await ready_store(settings)).close()
        await run_server(settings)

    try:
        with database_errors(settings):
            asyncio.run(main())
    except OSError as exc:
        what = {
            errno.EADDRINUSE: "the port is already in use (another reflectbot serve?); stop it or set PORT",
            errno.EACCES: "not allowed to listen there; use a PORT above 1023",
            errno.EADDRNOTAVAIL: "this machine has no such address; check HOST",
        }.get(exc.errno or 0)
        if what is None or Options.debug:
            raise
        raise UserError(f"cannot listen on {settings.host}:{settings.port} (HOST, PORT): {what}") from None


@app.command("slack-manifest")
def slack_manifest_command(
    url: Annotated[str, typer.Option("--url", help="public base URL, e.g. https://reflect.example.org")],
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="for SLACK_APP_TOKEN (no public URL)")] = False,
) -> None:
    """The Slack app manifest (YAML) for a server reachable at URL."""
    from adapters.slack.manifest import slack_manifest

    try:
        typer.echo(slack_manifest(url, socket_mode=socket_mode), nl=False)
    except ValueError as exc:
        raise fail(str(exc)) from None


@app.command("teams-package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="where to write the package (.zip)")] = Path(
        "reflectbot-teams.zip"
    ),
) -> None:
    """The Teams app package: manifest.json and its two icons, for the bot MICROSOFT_APP_ID."""
    from adapters.teams.package import build_teams_package

    settings = load_settings()
    if not settings.microsoft_app_id:
        raise fail("set MICROSOFT_APP_ID (the bot's Microsoft App ID) first")
    try:
        path = build_teams_package(
            out,
            settings.microsoft_app_id,
            website_url=settings.teams_website_url,
            privacy_url=settings.teams_privacy_url,
            terms_url=settings.teams_terms_url,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {path}: upload it in Teams (Apps → Manage your apps → Upload an app)")


@app.command()
def demo(
    programme: Annotated[Path, typer.Option(help="programme file to live through")] = SAMPLE,
    directory: Annotated[Path, typer.Option("--dir", help="where the demo keeps its database and reports")] = Path(
        "demo"
    ),
    as_written: Annotated[
        bool, typer.Option("--as-written", help="each person in their own language (default: English)")
    ] = False,
) -> None:
    """A programme lived through in the terminal on a simulated clock; its database and reports
    stay in --dir (started afresh each time) to explore afterwards."""
    from reflectbot.demo import DemoDirectoryTaken, run_demo

    load_settings()
    try:
        code = asyncio.run(run_demo(programme, sys.stdout, directory, as_written))
    except DemoDirectoryTaken as exc:
        raise UserError(str(exc)) from None
    raise typer.Exit(code=code)


_register_output_commands(app)
_register_pairs_command(app)
_register_audit_command(app)
_register_link_command(app)
_register_record_command(app)

if __name__ == "__main__":
    app()
