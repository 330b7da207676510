"""Reading request bodies that anyone can send: limits checked before parsing, and one refusal.

Every platform's route reads its body through `load_json`, and every translator turns a body of
the wrong shape into `Malformed`, which the route answers with 400: a body that is not what the
platform sends is the sender's mistake, never a 500 the platform would retry.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Slack's and Teams' payloads nest a dozen levels at most (a Block Kit view's state); far deeper
# only exhausts the parser's stack.
MAX_DEPTH = 64
# aiohttp refuses bodies above its client_max_size (1 MiB) with 413 before they are read.

# A string (to its closing quote, or to the end when it has none) or a bracket, left to right:
# each byte is looked at once, however the quotes and backslashes are arranged.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


class Malformed(Exception):
    """A body that is not what the platform sends; `reason` names what is wrong, never its text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON in `raw` nests more than `limit` arrays or objects (strings skipped),
    told without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for token in _TOKEN.findall(raw):
        if token[:1] == b'"':
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def load_json(raw: bytes | str) -> Any:
    """JSON from a body (UTF-8 without a BOM, as both platforms send it); `Malformed` otherwise."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.startswith(b"\xef\xbb\xbf"):
        raise Malformed("byte order mark")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("not UTF-8") from None
    if too_deep(data):
        raise Malformed("nested too deeply")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed("not JSON") from None


def text_or_none(value: Any, what: str) -> str | None:
    """A field that must be a string when present."""
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"{what} is not a string")


def mapping(value: Any, what: str) -> dict[str, Any]:
    """A field that must be an object when present (absent: empty)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise Malformed(f"{what} is not an object")
