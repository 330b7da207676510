"""The coordinators' web view over HTTP, as a browser sees it: the real server on 127.0.0.1, a
fresh database with a planted week, links signed as `reflectbot link` signs them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.web_links import PATH
from storage.db import Store
from storage.migrate import migrate
from tests.support import cli_runner
from tests.test_digest import NOW, RINA_MIDPOINT
from tests.web_world import (
    CHENDA_WROTE,
    FARHANAS_ONLY,
    INGRIDS,
    RINA_ANONYMOUS,
    RINA_NAMED,
    TANVIR_ANONYMOUS,
    WebWorld,
    open_web_world,
    programme_file,
)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[WebWorld]:
    world = await open_web_world(database_url, tmp_path)
    yield world
    await world.close()


def browser() -> aiohttp.ClientSession:
    # Cookies of 127.0.0.1 kept, as a browser keeps them.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def visible(html: str) -> str:
    """The page's text as a reader sees it (charts left out)."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def signed_in(world: WebWorld, coordinator: str, session: aiohttp.ClientSession) -> None:
    async with session.get(await world.link(coordinator)) as response:
        assert response.status == 200


async def page(world: WebWorld, session: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with session.get(world.base + path) as response:
        return response.status, await response.text()


async def test_tampered_expired_and_revoked_links_get_403(world: WebWorld) -> None:
    good = await world.link("ingrid")
    token = good.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    # Another coordinator's name in the payload, the signature kept: tampered.
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    expired = await world.link("ingrid", valid=timedelta(hours=1), at=world.clock.now - timedelta(hours=2))
    async with browser() as session:
        for url in (
            f"{world.base}{PATH}{forged}.{signature}",
            f"{world.base}{PATH}{token}x",
            expired,
            f"{world.base}{PATH}nonsense",
        ):
            async with session.get(url) as response:
                assert response.status == 403, url
                text = visible(await response.text())
                assert "This link cannot be used" in text and "Ingrid" not in text
                assert "reflectbot_web" not in response.headers.get("Set-Cookie", "")
        # Revoked: the link worked, then `reflectbot link --revoke` refuses it, page by page.
        async with session.get(good) as response:
            assert response.status == 200
        assert (await page(world, session, "/web/"))[0] == 200
        await world.links.revoke("ingrid", world.clock.now)
        status, text = await page(world, session, "/web/")
        assert status == 403 and "Rina" not in text
        async with session.get(good) as response:
            assert response.status == 403
        # A link issued after the revocation works.
        world.clock.now += timedelta(seconds=1)
        async with session.get(await world.link("ingrid")) as response:
            assert response.status == 200


async def test_a_link_that_has_expired_since_it_was_opened_stops_working(world: WebWorld) -> None:
    async with browser() as session:
        async with session.get(await world.link("ingrid", valid=timedelta(hours=2))) as response:
            assert response.status == 200
        assert (await page(world, session, "/web/attention"))[0] == 200
        world.clock.now += timedelta(hours=3)
        assert (await page(world, session, "/web/attention"))[0] == 403


async def test_no_page_without_a_link(world: WebWorld) -> None:
    async with browser() as session:
        for path in (
            "/web/",
            "/web/attention",
            "/web/people/rina",
            "/web/downloads/answers.csv",
            "/web/outcomes",
        ):
            status, text = await page(world, session, path)
            assert status == 403 and "Rina" not in text, path


async def test_a_coordinator_never_sees_another_coordinators_participant(world: WebWorld) -> None:
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        status, overview = await page(world, session, "/web/")
        assert status == 200
        text = visible(overview)
        for name in INGRIDS:
            assert name in text
        assert FARHANAS_ONLY not in text
        for path in (
            "/web/attention",
            "/web/panels/spring-panel",
            "/web/outcomes",
            "/web/downloads/answers.csv",
            "/web/downloads/outcomes.csv",
        ):
            status, body = await page(world, session, path)
            assert status == 200 and FARHANAS_ONLY not in body and CHENDA_WROTE not in body, path
        assert (await page(world, session, "/web/people/chenda"))[0] == 404

    async with browser() as session:
        await signed_in(world, "farhana", session)
        text = visible((await page(world, session, "/web/?lang=en"))[1])
        assert FARHANAS_ONLY in text and "Sokha Chan" in text
        for name in ("Rina Akter", "Bishal Thapa", "Priya Sharma"):
            assert name not in text
        for path in (
            "/web/attention",
            "/web/panels/spring-panel",
            "/web/downloads/answers.csv",
            "/web/outcomes",
        ):
            body = (await page(world, session, path))[1]
            assert "Rina Akter" not in body and RINA_MIDPOINT["support_note"] not in body, path
            assert RINA_NAMED not in body and RINA_ANONYMOUS not in body, path
        assert (await page(world, session, "/web/people/rina"))[0] == 404
        status, chenda = await page(world, session, "/web/people/chenda?lang=en")
        assert status == 200 and CHENDA_WROTE in visible(chenda)


async def test_an_anonymous_panel_item_is_never_shown_with_a_name(world: WebWorld) -> None:
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        status, html = await page(world, session, "/web/panels/spring-panel?lang=en")
    assert status == 200
    items = [visible(li) for li in re.findall(r"<li>(.*?)</li>", html, flags=re.S)]
    assert any(RINA_NAMED in i and "Rina Akter" in i for i in items)
    for anonymous in (RINA_ANONYMOUS, TANVIR_ANONYMOUS):
        [line] = [i for i in items if anonymous in i]
        assert not any(name in line for name in INGRIDS), line
    # Her midpoint aha moment, which she kept private, is not in the pack at all.
    assert RINA_MIDPOINT["aha"] not in html


async def test_a_participants_page_groups_by_goal_and_shows_their_consent(world: WebWorld) -> None:
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        status, html = await page(world, session, "/web/people/rina?lang=en")
    assert status == 200
    text = visible(html)
    assert "Learning goal: Form self-reliance groups that help women save money for healthcare costs" in text
    assert "Groups save weekly and lend to the sickest first." in text  # her learning answer
    items = [visible(li) for li in re.findall(r'<li class="item">(.*?)</li>', html, flags=re.S)]
    [named] = [i for i in items if RINA_NAMED in i]
    [anonymous] = [i for i in items if RINA_ANONYMOUS in i]
    [private] = [i for i in items if RINA_MIDPOINT["aha"] in i]
    [plain] = [i for i in items if RINA_MIDPOINT["next_steps"] in i]
    assert "Panel: with their name" in named and "Panel: anonymously" in anonymous
    assert "Panel: not shared" in private and "Coordinators only" in plain


async def test_every_page_sends_the_security_headers_and_a_safe_cookie(world: WebWorld) -> None:
    async with browser() as session:
        async with session.get(await world.link("ingrid")) as response:
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/web/" in cookie
            # Served over http here: Secure only when WEB_BASE_URL is https (test below).
            assert "Secure" not in cookie
        for path in ("/web/", "/web/attention", "/web/nope-404", "/web/static/style.css", "/web/open/bad"):
            async with session.get(world.base + path) as response:
                if response.status == 404 and path == "/web/nope-404":
                    continue
                csp = response.headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
                assert "script-src" not in csp  # no script may run at all (default-src 'none')
                assert response.headers["X-Frame-Options"] == "DENY", path
                assert response.headers["X-Content-Type-Options"] == "nosniff", path
                assert response.headers["Referrer-Policy"] == "same-origin", path


async def test_over_https_the_cookie_is_secure(database_url: str, tmp_path: Path) -> None:
    from bot.web_links import WebLinks
    from reflectbot.server import build_server
    from reflectbot.settings import Settings
    from storage.importer import import_programme

    settings = Settings(_env_file=None, database_url=database_url, web_base_url="https://reflect.example.org")  # type: ignore[call-arg]
    server = await build_server(settings, clock=lambda: NOW)
    try:
        await import_programme(server.store, programme_file(tmp_path))
        from aiohttp.test_utils import TestClient, TestServer

        token, _claim = await WebLinks(server.store, settings.web_base_url).issue("ingrid", NOW)
        async with TestClient(TestServer(server.app, host="127.0.0.1", port=0)) as client:
            response = await client.get(PATH + token)
            assert response.status == 200
            assert "Secure" in response.headers["Set-Cookie"]
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        await server.close()


async def test_mark_handled_needs_the_form_token_and_then_clears_the_request(world: WebWorld) -> None:
    await world.ask_support("bishal", "My landlord wants me out.")
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        html = (await page(world, session, "/web/attention?lang=en"))[1]
        assert "My landlord wants me out." in visible(html)
        forms = re.findall(
            r'<li class="request" id="request-\d+">\s*<p>(.*?)</p>\s*<form method="post" action="([^"]+)">'
            r'\s*<input type="hidden" name="csrf" value="([^"]+)">',
            html,
        )
        [(action, csrf)] = [(a, c) for text, a, c in forms if "landlord" in text]
        refused: list[dict[str, str]] = [{}, {"csrf": "forged"}]
        for form in refused:
            async with session.post(world.base + action, data=form, allow_redirects=False) as response:
                assert response.status == 403
        # The right token from another site is refused too.
        async with session.post(
            world.base + action,
            data={"csrf": csrf},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
        assert "My landlord wants me out." in visible(
            (await page(world, session, "/web/attention?lang=en"))[1]
        )

        async with session.post(world.base + action, data={"csrf": csrf}, allow_redirects=False) as response:
            assert response.status == 303
        text = visible((await page(world, session, "/web/attention?lang=en"))[1])
        assert "My landlord wants me out." not in text
        assert RINA_MIDPOINT["support_note"] in text  # the other request is still open

    # Marked as the chat marks it: the digest no longer lists it, and Ingrid's chat confirms it.
    from bot.reports.digest import build_digest

    digest = await build_digest(world.server.store, "ingrid", world.clock.now)
    assert all("landlord" not in r.text for p in digest.partnerships for r in p.support)
    await world.transcript.deliverer.drain(world.clock.now)
    confirmations = [m.text for m in world.transcript.sender.to("ingrid")]
    assert any("Bishal Thapa" in text and "håndtert" in text for text in confirmations)


async def test_someone_silent_for_five_working_days_needs_attention(world: WebWorld) -> None:
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        text = visible((await page(world, session, "/web/attention?lang=en"))[1])
        assert "Bishal Thapa: asked on" not in text
        world.clock.now = NOW + timedelta(days=9)
        text = visible((await page(world, session, "/web/attention?lang=en"))[1])
        assert re.search(r"Bishal Thapa: asked on Wednesday, March 31, 2027, \d+ working days ago", text)


def _rows_of_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _rows_of_xlsx(data: bytes) -> list[dict[str, str]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    header, *rows = [
        tuple("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)
    ]
    return [dict(zip(header, row, strict=True)) for row in rows]


async def test_downloads_open_with_csv_and_openpyxl_and_hold_the_expected_rows(world: WebWorld) -> None:
    from tests.test_outcomes import answer_final

    world.transcript.now = NOW
    await answer_final(world.transcript, "rina")
    columns = ["programme", "partnership", "learning_goal", "outcome", "person", "date", "text"]
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        files = {}
        for name in ("answers.csv", "answers.xlsx", "outcomes.csv", "outcomes.xlsx"):
            async with session.get(f"{world.base}/web/downloads/{name}") as response:
                assert response.status == 200
                assert "attachment" in response.headers["Content-Disposition"]
                files[name] = await response.read()
    answers = _rows_of_csv(files["answers.csv"])
    assert list(answers[0]) == columns
    assert _rows_of_xlsx(files["answers.xlsx"]) == answers
    programme = "South Asia health and education exchange 2027"
    assert {
        "programme": programme,
        "partnership": "Aspada and Sahaj Community Hospital",
        "learning_goal": "Form self-reliance groups that help women save money for healthcare costs",
        "outcome": "organisational-development",
        "person": "Rina Akter",
        "date": "2027-03-31",
        "text": RINA_MIDPOINT["learning"],
    } in answers
    # Her anonymous panel item carries no name; her named one does.
    assert [r["person"] for r in answers if r["text"] == RINA_ANONYMOUS] == ["anonymous"]
    assert [r["person"] for r in answers if r["text"] == RINA_NAMED] == ["Rina Akter"]
    assert not any(r["person"] == FARHANAS_ONLY or r["text"] == CHENDA_WROTE for r in answers)

    outcomes = _rows_of_csv(files["outcomes.csv"])
    assert _rows_of_xlsx(files["outcomes.xlsx"]) == outcomes
    rina = [(r["outcome"], r["learning_goal"], r["text"]) for r in outcomes if r["person"] == "Rina Akter"]
    # FINALS["rina"]: technical and personal development, goal progress 4, what to adopt.
    assert ("technical-competence", "", "It happened.") in rina
    assert ("personal-development", "", "It happened.") in rina
    assert (
        "organisational-development",
        "Form self-reliance groups that help women save money for healthcare costs",
        "4",
    ) in rina
    assert ("", "", "Weekly savings meetings.") in rina
    assert all(r["programme"] == programme and r["date"] == "2027-03-31" for r in outcomes)


async def test_the_weekly_digest_carries_a_fresh_link_that_opens_the_view(world: WebWorld) -> None:
    from sqlmodel import select

    from storage.models import OutboxMessage

    monday = datetime.fromisoformat("2027-04-05T06:30:00+00:00")
    world.clock.now = monday
    await world.server.tick(monday)
    async with world.server.store.reading() as session:
        [digest] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("digest:ingrid:")))
        ).all()  # type: ignore[attr-defined]
    text = digest.payload["text"]
    [url] = re.findall(re.escape(world.base + PATH) + r"[A-Za-z0-9_.\-]+", text)
    assert "19. april 2027" in text  # valid for 14 days, in Ingrid's Norwegian
    async with browser() as session:
        async with session.get(url) as response:
            assert response.status == 200
        assert "Rina Akter" in (await page(world, session, "/web/"))[1]


async def test_without_a_public_address_the_digest_carries_no_link(database_url: str, tmp_path: Path) -> None:
    import io

    from reflectbot.server import build_server
    from reflectbot.settings import Settings
    from storage.importer import import_programme

    console = io.StringIO()
    server = await build_server(Settings(_env_file=None, database_url=database_url), console=console)  # type: ignore[call-arg]
    try:
        await import_programme(server.store, programme_file(tmp_path))
        await server.tick(datetime.fromisoformat("2027-04-05T06:30:00+00:00"))
    finally:
        await server.close()
    assert "Ukentlig oversikt for Ingrid Solberg" in console.getvalue()
    assert "/web/" not in console.getvalue()


def test_reflectbot_link_prints_a_working_link_and_refuses_mistakes(
    tmp_path: Path, database_url: str
) -> None:
    import asyncio

    from storage.importer import import_programme

    async def prepare() -> None:
        store = Store(database_url)
        await migrate(store)
        await import_programme(store, programme_file(tmp_path))
        await store.close()

    asyncio.run(prepare())
    cli = cli_runner(database_url, tmp_path)
    result = cli("link", "--coordinator", "ingrid")
    assert result.returncode == 2 and "WEB_BASE_URL" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / ".env").write_text("WEB_BASE_URL=https://reflect.example.org/\n", encoding="utf-8")
    result = cli("link", "--coordinator", "ingrid", "--valid", "3d")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"https://reflect\.example\.org/web/open/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\n", result.stdout
    )
    for args, says in (
        (("--coordinator", "nobody"), "no coordinator 'nobody'"),
        (("--coordinator", "rina"), "no coordinator 'rina'"),
        (("--coordinator", "ingrid", "--valid", "soon"), "--valid 'soon'"),
        (("--coordinator", "ingrid", "--valid", "400d"), "a year at most"),
    ):
        result = cli("link", *args)
        assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr, args
        assert len(result.stderr.strip().splitlines()) <= 2
    result = cli("link", "--coordinator", "ingrid", "--revoke")
    assert result.returncode == 0 and "revoked" in result.stdout


async def test_every_page_a_link_opens_is_in_the_audit_log(world: WebWorld) -> None:
    """Who looked at what, and when: one audit row per page opened with a coordinator's link,
    naming the page and the link by when it was issued, never the token."""
    from storage.audit import entries
    from storage.models import AuditKind

    async with browser() as session:
        link = await world.link("ingrid")
        async with session.get(link) as response:
            assert response.status == 200
        assert (await page(world, session, "/web/attention"))[0] == 200
    async with world.server.store.reading() as session:
        rows = await entries(session, kind=AuditKind.COORDINATOR_LINK)
    assert [r.detail["page"] for r in rows] == ["/web/open", "/web/attention"]
    assert {r.actor for r in rows} == {"coordinator:ingrid"} and {r.person_id for r in rows} == {"ingrid"}
    token = link.rsplit("/", 1)[-1]
    assert all(token not in r.line() for r in rows)


async def test_the_overview_shows_a_panel_at_its_own_time_and_zone(world: WebWorld) -> None:
    """Ingrid reads in Oslo; the spring panel is at 10:00 in Dhaka, and the page says so, as her
    digest and the panel pack do."""
    async with browser() as session:
        await signed_in(world, "ingrid", session)
        text = visible((await page(world, session, "/web/?lang=en"))[1])
    assert "Spring learning panel, Tuesday, April 20, 2027, 10:00 (Asia/Dhaka)" in text, text
