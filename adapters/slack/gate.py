"""What a request to /slack/events must be before bolt sees it: signed by Slack within the last
five minutes (401 otherwise), and a body Slack sends (400 otherwise): UTF-8, not nested beyond
reason, JSON or a form whose `payload` is a JSON object, read the way bolt reads it.

Checking the signature here, before bolt, also keeps a refused body out of bolt's logger, which
writes it whole.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapters.payloads import Malformed, load_json

MAX_AGE = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class Unsigned(Exception):
    """Not signed with the signing secret, or not recently: 401."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify(headers: Mapping[str, str], raw: bytes, secret: str, now: float) -> None:
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unsigned("no timestamp")
    if abs(now - int(timestamp)) > MAX_AGE:
        raise Unsigned("stale timestamp")
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Unsigned("bad signature")


def parse(raw: bytes, content_type: str, charset: str | None) -> tuple[str, dict[str, Any]]:
    """The body as text (what bolt is given) and as bolt will parse it; `Malformed` when it is
    not what Slack sends."""
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Malformed("charset is not UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise Malformed("byte order mark")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("not UTF-8") from None
    body: Any
    # The same choice as slack_bolt.request.internals.parse_body.
    if not text:
        body = {}
    elif content_type == "application/json" or text.startswith("{"):
        body = load_json(raw)
    elif "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        body = {} if payload is None else load_json(payload)
    else:
        body = dict(parse_qsl(text, keep_blank_values=True))
    if not isinstance(body, dict):
        raise Malformed("not an object")
    # Every Events API and interactivity payload names its type; a slash command is a form with
    # `command`; Slack's certificate check a form with `ssl_check`.
    if not isinstance(body.get("type"), str) and "command" not in body and "ssl_check" not in body:
        raise Malformed("no type")
    return text, body
