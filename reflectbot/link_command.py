"""`reflectbot link`: a signed, expiring link to a coordinator's web view, or `--revoke` to make
every link of theirs issued so far useless."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from reflectbot.cli_common import fail, load_settings, run


def link(
    coordinator: Annotated[
        str, typer.Option("--coordinator", help="the coordinator's id in the programme file")
    ],
    valid: Annotated[str, typer.Option("--valid", help="how long the link works: 14d, 36h, 2w")] = "14d",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="refuse every link of this coordinator issued until now")
    ] = False,
) -> None:
    """Print a link to the coordinator's web view (their partnerships only; no account needed)."""
    from bot.web_links import UnknownCoordinator, WebLinks, parse_validity

    settings = load_settings()
    try:
        validity = parse_validity(valid)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not revoke and not settings.web_base_url:
        raise fail(
            "set WEB_BASE_URL to the address coordinators reach this server at "
            "(e.g. https://reflect.example.org) in .env, then run this again"
        )

    async def work(store: Any) -> str | None:
        links = WebLinks(store, settings.web_base_url, settings.web_secret)
        now = datetime.now(UTC)
        if revoke:
            await links.revoke(coordinator, now)
            return None
        token, claim = await links.issue(coordinator, now, validity)
        typer.echo(f"valid until {claim.expires_at.isoformat(timespec='minutes')} (UTC)", err=True)
        return links.url(token)

    try:
        url = run(work, settings)
    except UnknownCoordinator:
        raise fail(f"no coordinator {coordinator!r} in the programme") from None
    if url is None:
        typer.echo(
            f"revoked every link of {coordinator} issued until now; "
            f"a new one: reflectbot link --coordinator {coordinator}"
        )
    else:
        typer.echo(url)


def register(app: typer.Typer) -> None:
    if "link" not in {c.name for c in app.registered_commands}:
        app.command("link")(link)
