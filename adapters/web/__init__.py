"""The coordinators' web view: server-rendered pages (aiohttp + Jinja2) on the server of
`reflectbot serve`, reached by a signed, expiring link instead of an account (`bot.web_links`)."""

from adapters.web.view import WebView

__all__ = ["WebView"]
