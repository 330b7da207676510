"""What every page of the web view carries, and how a visitor is let in.

- The link (`/web/open/TOKEN`) is checked, then kept in a cookie: HttpOnly, SameSite=Strict,
  Secure when the public address is https, limited to /web/ and to the link's validity. The token
  then leaves the address bar and the history, and every request is checked again (expiry and
  revocation take effect at once).
- The one write (mark handled) needs the form token derived from the link (`csrf_token`) and, when
  the browser names one, an Origin of this site.
- Security headers on every response: a Content-Security-Policy allowing only this site's own
  style sheet and images (no script at all, no framing), nosniff, the referrer only within this
  site, no caching.
"""

from __future__ import annotations

from aiohttp import web

COOKIE = "reflectbot_web"
CSRF_FIELD = "csrf"
# Inline style attributes are allowed for the charts: matplotlib's SVG styles its shapes that way.
# Nothing a person wrote reaches an attribute (every text is escaped), and no script may run.
CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it a browser names no Origin ("null") on our own form posts.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def secured(response: web.StreamResponse, https: bool) -> web.StreamResponse:
    response.headers.update(HEADERS)
    if https:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def keep_link(response: web.StreamResponse, token: str, max_age: int, https: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=max(0, max_age), path="/web/", httponly=True, secure=https, samesite="Strict"
    )


def same_origin(request: web.Request, base_url: str | None) -> bool:
    """A browser names the site a form was sent from; one from another site is refused."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == base_url or origin.split("://", 1)[-1] == request.host
