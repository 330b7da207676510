"""The pages of the coordinators' web view and the one write (mark handled).

Every page is built for the coordinator named by the visitor's link, from the same data as their
digest (`bot.reports.coordinator_view`), in their language (or the one chosen with ?lang=) and
their time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from hmac import compare_digest
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.web.guard import COOKIE, CSRF_FIELD, HEADERS, keep_link, same_origin, secured
from adapters.web.render import Pages
from bot.i18n import LANGUAGES, Translator
from bot.record_links import RecordLinks
from bot.reports.coordinator_view import (
    SILENT_WORKING_DAYS,
    build_attention,
    build_overview,
    build_reflections,
    outcomes_for,
    pack_for,
    panels_for,
)
from bot.reports.digest import UnknownCoordinator, build_digest
from bot.reports.exports import answer_rows, outcome_rows, to_csv, to_xlsx
from bot.reports.outcome_report import render_html as outcome_html
from bot.reports.panel_pack import render_html as pack_html
from bot.reports.record import NoRecord
from bot.reports.record_pdf import record_pdf_of
from bot.reports.response_chart import response_chart_svg
from bot.web_links import BadLink, Claim, WebLinks, csrf_token, link_used
from bot.web_support import mark_handled_on_web
from storage.db import Store

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, Claim, str], Awaitable[web.StreamResponse]]
DOWNLOADS = {"answers": answer_rows, "outcomes": outcome_rows}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def inner_body(page: str) -> str:
    """What a self-contained report page holds between <body> and </body> (`bot.reports.html`)."""
    return page.split("<body>\n", 1)[1].rsplit("\n</body>", 1)[0]


class WebView:
    def __init__(
        self, store: Store, links: WebLinks, translator: Translator, clock: Callable[[], datetime]
    ) -> None:
        self.store, self.links, self.translator, self.clock = store, links, translator, clock
        self.https = bool(links.base_url and links.base_url.startswith("https://"))
        self.pages = Pages(translator)
        self.css = (STATIC / "style.css").read_bytes()
        self.record_links = RecordLinks(links)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/web/open/{token}", self._wrap(self.open)),
            web.get("/web/", self._page(self.overview)),
            web.get("/web/attention", self._page(self.attention)),
            web.post("/web/support/{id}/handled", self._page(self.handled)),
            web.get("/web/people/{id}", self._page(self.person)),
            web.get("/web/panels/{id}", self._page(self.panel)),
            web.get("/web/outcomes", self._page(self.outcomes)),
            web.get("/web/downloads/{what}.{format}", self._page(self.download)),
            web.get("/web/static/style.css", self._wrap(self.style)),
            web.get("/web/record/{token}", self._wrap(self.record)),
        ]

    # -- the way in ---------------------------------------------------------------------------
    def _wrap(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                # A redirect or a 404 carries the same headers as a page.
                exc.headers.update(HEADERS)
                raise
            return secured(response, self.https)

        return wrapped

    def _page(self, page: Page) -> Handler:
        """A page for the coordinator of the visitor's link; 403 without a link that holds."""

        async def handler(request: web.Request) -> web.StreamResponse:
            now = self.clock()
            token = request.cookies.get(COOKIE, "")
            try:
                claim = await self.links.accept(token, now)
            except BadLink as exc:
                logger.info("web: %s refused (%s)", request.path, exc)
                return self._denied(request)
            await link_used(self.store, claim, request.path)
            try:
                return await page(request, claim, token)
            except UnknownCoordinator:
                return self._denied(request)

        return self._wrap(handler)

    def _reader_language(self, request: web.Request) -> str:
        wanted = [
            part.split(";")[0].strip().split("-")[0]
            for part in request.headers.get("Accept-Language", "").split(",")
        ]
        return next((w for w in wanted if w in LANGUAGES), "en")

    def _denied(self, request: web.Request, form: bool = False) -> web.Response:
        language = self._reader_language(request)
        return self.pages.respond("denied.html", language, status=403, form=form)

    async def open(self, request: web.Request) -> web.StreamResponse:
        """The link itself: checked, kept in the cookie, then on to the overview."""
        now = self.clock()
        token = request.match_info["token"]
        try:
            claim = await self.links.accept(token, now)
        except BadLink as exc:
            logger.info("web: a link was refused (%s)", exc)
            return self._denied(request)
        await link_used(self.store, claim, "/web/open")
        digest = await build_digest(self.store, claim.coordinator_id, now)
        # A page that moves on by itself rather than a redirect: a SameSite=Strict cookie set on
        # a redirect from a link in Slack or an e-mail is not sent with the redirected request.
        response = self.pages.respond("open.html", digest.language)
        keep_link(response, token, int((claim.expires_at - now).total_seconds()), self.https)
        return response

    def _language(self, request: web.Request, default: str) -> str:
        chosen = request.query.get("lang")
        return chosen if chosen in LANGUAGES else default

    # -- pages ----------------------------------------------------------------------------------
    async def _common(
        self, request: web.Request, claim: Claim, token: str, language: str | None = None
    ) -> dict[str, Any]:
        now = self.clock()
        attention = await build_attention(self.store, claim.coordinator_id, now)
        digest = attention.digest
        language = self._language(request, language or digest.language)
        return {
            "language": language,
            "timezone": digest.timezone,
            "coordinator": digest.coordinator_name,
            "attention": attention,
            "now": now,
            "csrf": csrf_token(await self.links.key(now), token),
            "path": request.path,
            "silent_days": SILENT_WORKING_DAYS,
            # Links keep a language chosen from the menu.
            "q": f"?lang={language}" if request.query.get("lang") == language else "",
            "panels": await panels_for(self.store, claim.coordinator_id),
        }

    async def overview(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        context = await self._common(request, claim, token)
        overview = await build_overview(
            self.store, claim.coordinator_id, context["now"], context["attention"].digest
        )
        chart = response_chart_svg(overview.weeks, self.translator, context["language"], context["timezone"])
        return self.pages.respond(
            "overview.html", context["language"], overview=overview, chart=chart, **context
        )

    async def attention(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        context = await self._common(request, claim, token)
        return self.pages.respond("attention.html", context["language"], **context)

    async def handled(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        form = await request.post()
        now = self.clock()
        expected = csrf_token(await self.links.key(now), token)
        given = form.get(CSRF_FIELD)
        if (
            not isinstance(given, str)
            or not compare_digest(given, expected)
            or not same_origin(request, self.links.base_url)
        ):
            logger.info("web: mark handled refused for %s (form token or origin)", claim.coordinator_id)
            return self._denied(request, form=True)
        raw = request.match_info["id"]
        if raw.isdigit():
            await mark_handled_on_web(self.store, self.translator, claim.coordinator_id, int(raw), now)
        lang = request.query.get("lang")
        raise web.HTTPSeeOther("/web/attention" + (f"?lang={lang}" if lang in LANGUAGES else ""))

    async def person(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        reflections = await build_reflections(self.store, claim.coordinator_id, request.match_info["id"])
        if reflections is None:
            raise web.HTTPNotFound(text="Not found")
        context = await self._common(request, claim, token)
        return self.pages.respond("person.html", context["language"], reflections=reflections, **context)

    async def panel(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        pack = await pack_for(self.store, claim.coordinator_id, request.match_info["id"])
        if pack is None:
            raise web.HTTPNotFound(text="Not found")
        context = await self._common(request, claim, token)
        report = inner_body(pack_html(pack, self.translator, context["language"]))
        return self.pages.respond(
            "report.html", context["language"], report=report, kind="panel", title=pack.title, **context
        )

    async def outcomes(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        context = await self._common(request, claim, token)
        outcomes = await outcomes_for(self.store, claim.coordinator_id)
        report = inner_body(outcome_html(outcomes, self.translator, context["language"], context["now"]))
        return self.pages.respond(
            "report.html", context["language"], report=report, kind="outcomes", title=None, **context
        )

    async def download(self, request: web.Request, claim: Claim, token: str) -> web.StreamResponse:
        what, format = request.match_info["what"], request.match_info["format"]
        if what not in DOWNLOADS or format not in ("csv", "xlsx"):
            raise web.HTTPNotFound(text="Not found")
        rows = await DOWNLOADS[what](self.store, claim.coordinator_id)
        logger.info("web: %s downloaded %s.%s (%d rows)", claim.coordinator_id, what, format, len(rows))
        body, content_type = (
            (to_csv(rows), "text/csv; charset=utf-8") if format == "csv" else (to_xlsx(rows, what), XLSX)
        )
        return web.Response(
            body=body,
            headers={
                "Content-Type": content_type,
                "Content-Disposition": f'attachment; filename="{what}.{format}"',
            },
        )

    async def record(self, request: web.Request) -> web.StreamResponse:
        """A participant's learning record, from the signed link they were sent (Teams)."""
        try:
            person_id = await self.record_links.accept(request.match_info["token"], self.clock())
            pdf = await record_pdf_of(self.store, person_id, self.translator)
        except (BadLink, NoRecord) as exc:
            logger.info("web: a record link was refused (%s)", type(exc).__name__)
            return self._denied(request)
        logger.info("web: learning record of %s opened (%d bytes)", person_id, len(pdf))
        return web.Response(
            body=pdf,
            headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": f'inline; filename="learning-record-{person_id}.pdf"',
            },
        )

    async def style(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.css, content_type="text/css", headers={"Cache-Control": "max-age=3600"})
