"""`reflectbot digest`, `reflectbot panel-pack` and `reflectbot outcomes`: what the answers become,
printed (or written) as text, Markdown or one self-contained HTML file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reflectbot.cli_common import fail, parse_instant, run


class DigestFormat(StrEnum):
    text = "text"
    md = "md"
    html = "html"


class FileFormat(StrEnum):
    md = "md"
    html = "html"


def _instant(value: str | None) -> datetime:
    return datetime.now(UTC) if value is None else parse_instant(value)


STDOUT = Path("-")


def write_text(text: str, out: Path | None, html: bool = False) -> None:
    """To the file `out`, or to stdout; HTML goes to a terminal only when asked (`--out -`):
    a page of markup (and an embedded chart) in a terminal helps no one."""
    if out is None and html and sys.stdout.isatty():
        raise fail("HTML is for a browser: add --out report.html (or --out - to print it here anyway)")
    if out is None or out == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    _write(out, text.encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {path}", err=True)


def _language(value: str | None) -> str | None:
    from bot.i18n import LANGUAGES

    if value is not None and value not in LANGUAGES:
        raise typer.BadParameter(f"{value!r}: choose one of {', '.join(LANGUAGES)}")
    return value


def digest(
    coordinator: Annotated[
        str, typer.Option("--coordinator", help="the coordinator's id in the programme file")
    ],
    format: Annotated[DigestFormat, typer.Option("--format", help="text, md or html")] = DigestFormat.text,
    at: Annotated[
        str | None, typer.Option("--at", help="as of this ISO-8601 instant (default: now; no offset = UTC)")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="language (default: the coordinator's)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (- for stdout)")] = None,
) -> None:
    """A coordinator's digest: each partnership they follow, in their language."""
    from bot.i18n import Translator
    from bot.reports.digest import UnknownCoordinator, build_digest, render_html, render_markdown, render_text

    moment, language = _instant(at), _language(lang)
    try:
        built = run(lambda store: build_digest(store, coordinator, moment))
    except UnknownCoordinator:
        raise fail(f"no coordinator {coordinator!r} in the programme") from None
    render = {
        DigestFormat.text: render_text,
        DigestFormat.md: render_markdown,
        DigestFormat.html: render_html,
    }[format]
    write_text(render(built, Translator(), language), out, html=format is DigestFormat.html)


def panel_pack(
    panel: Annotated[str, typer.Argument(help="the panel's id in the programme file")],
    format: Annotated[FileFormat, typer.Option("--format", help="md or html")] = FileFormat.md,
    lang: Annotated[str | None, typer.Option("--lang", help="language (default: the programme's)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (- for stdout)")] = None,
) -> None:
    """The panel's agenda of consented aha moments, takeaways and discussion questions."""
    from bot.i18n import Translator
    from bot.reports.panel_pack import UnknownPanel, build_panel_pack, render_html, render_markdown

    language = _language(lang)
    try:
        pack = run(lambda store: build_panel_pack(store, panel))
    except UnknownPanel:
        raise fail(f"no panel {panel!r} in the programme") from None
    render = render_html if format is FileFormat.html else render_markdown
    write_text(render(pack, Translator(), language), out, html=format is FileFormat.html)


def outcomes(
    format: Annotated[FileFormat, typer.Option("--format", help="md or html")] = FileFormat.md,
    png: Annotated[
        Path | None, typer.Option("--png", help="also write the chart to this PNG file (HTML has it inline)")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="language (default: the programme's)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (- for stdout)")] = None,
) -> None:
    """The learning-outcome report, with its chart (embedded in HTML; --png writes it as a file)."""
    from bot.i18n import Translator
    from bot.reports.chart import chart_png, outcome_chart, png_labels_notice
    from bot.reports.outcome_report import render_html, render_markdown
    from bot.reports.outcomes import NoProgramme, build_outcomes

    language = _language(lang)
    try:
        report = run(build_outcomes)
    except NoProgramme:
        raise fail("no programme imported yet (reflectbot import FILE)") from None
    translator = Translator()
    today = datetime.now(UTC)
    if png is not None:
        notice = png_labels_notice(translator, language or report.language)
        if notice is not None:
            typer.echo(f"outcomes: {notice}", err=True)
        _write(png, chart_png(outcome_chart(report, translator, language)))
    if format is FileFormat.html:
        write_text(render_html(report, translator, language, today), out, html=True)
    else:
        chart_path = None
        if png is not None:
            # Markdown links to the PNG, relative to where the Markdown goes.
            base = out.parent if out is not None and out != STDOUT else Path.cwd()
            try:
                chart_path = str(png.resolve().relative_to(base.resolve()))
            except ValueError:
                chart_path = str(png.resolve())
        write_text(render_markdown(report, translator, language, today, chart_path), out)


COMMANDS: dict[str, Callable[..., None]] = {"digest": digest, "panel-pack": panel_pack, "outcomes": outcomes}


def register(app: typer.Typer) -> None:
    """Add the output commands to the `reflectbot` app (once, however often it is called)."""
    taken = {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}
    for name, command in COMMANDS.items():
        if name not in taken:
            app.command(name)(command)
