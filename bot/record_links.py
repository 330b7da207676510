"""Signed links to a participant's learning record (`GET /web/record/TOKEN`), for platforms where
a bot cannot simply attach a file to a 1:1 chat (Teams).

A token is `payload.signature` like a coordinator's web link (`bot.web_links`), signed with the
same key, but over "record:" + the payload, so a record token never opens the coordinators' web
view and a coordinator's link never opens a record. It names the person and expires after
VALIDITY. Tokens are credentials: never log them.
"""

from __future__ import annotations

import binascii
import hmac
import json
from datetime import datetime, timedelta

from bot.web_links import BadLink, WebLinks, _b64, _mac, _unb64

VALIDITY = timedelta(days=7)
PATH = "/web/record/"


def _signed(key: str, payload: bytes) -> bytes:
    return _mac(key, b"record:" + payload)


class RecordLinks:
    def __init__(self, links: WebLinks) -> None:
        self.links = links

    @property
    def base_url(self) -> str | None:
        return self.links.base_url

    async def url(self, person_id: str, now: datetime) -> str | None:
        """A fresh link to the person's record, or None when the server has no public address."""
        if self.links.base_url is None:
            return None
        payload = json.dumps(
            {"p": person_id, "e": int((now + VALIDITY).timestamp())}, separators=(",", ":")
        ).encode("utf-8")
        token = f"{_b64(payload)}.{_b64(_signed(await self.links.key(now), payload))}"
        return f"{self.links.base_url}{PATH}{token}"

    async def accept(self, token: str, now: datetime) -> str:
        """The person id of a genuine, unexpired token; BadLink otherwise."""
        try:
            encoded, signature = token.split(".")
            payload = _unb64(encoded)
            if not hmac.compare_digest(_unb64(signature), _signed(await self.links.key(now), payload)):
                raise BadLink("tampered")
            data = json.loads(payload)
            person_id, expires = str(data["p"]), int(data["e"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise BadLink("malformed") from exc
        if expires <= now.timestamp():
            raise BadLink("expired")
        return person_id
