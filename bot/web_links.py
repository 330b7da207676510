"""Coordinators' web links: no accounts, a signed and expiring link instead.

A link's token is `payload.signature`, both base64url: the payload names the coordinator, when the
link was issued and until when it is valid; the signature is an HMAC-SHA256 of the payload with
the server's key (WEB_SECRET, or one made and kept in the database). A token is refused when its
signature does not match (tampered), when it has expired, when it was issued before the
coordinator's links were revoked, or when its coordinator is no longer one.

Tokens are credentials: never log them (log the coordinator's id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage import audit
from storage.db import Store
from storage.models import AuditKind
from storage.web_links import coordinator_named, revoke_links, revoked_before, stored_secret

logger = logging.getLogger(__name__)

DEFAULT_VALIDITY = timedelta(days=14)
LONGEST_VALIDITY = timedelta(days=366)
_VALIDITY = re.compile(r"^(\d+)([dhw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
PATH = "/web/open/"


class BadLink(Exception):
    """Why a link is refused (tampered, expired, revoked, unknown); the visitor sees only 403."""


class UnknownCoordinator(LookupError):
    pass


def parse_validity(text: str) -> timedelta:
    """`14d`, `36h` or `2w`; a ValueError says what is accepted."""
    match = _VALIDITY.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--valid {text!r}: write a number of days, hours or weeks, e.g. 14d, 36h or 2w")
    validity = int(match.group(1)) * _UNITS[match.group(2)]
    if validity > LONGEST_VALIDITY:
        raise ValueError(f"--valid {text!r}: a link may be valid for a year at most")
    return validity


@dataclass(frozen=True)
class Claim:
    coordinator_id: str
    issued_at: datetime
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


def sign(key: str, claim: Claim) -> str:
    payload = json.dumps(
        {
            "c": claim.coordinator_id,
            # Milliseconds: a link issued just after a revocation is not taken for an older one.
            "i": int(claim.issued_at.timestamp() * 1000),
            "e": int(claim.expires_at.timestamp()),
        },
        separators=(",", ":"),
    ).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(key: str, token: str, now: datetime) -> Claim:
    """The claim of a genuine, unexpired token; BadLink otherwise (revocation is checked by `accept`)."""
    try:
        encoded, signature = token.split(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _mac(key, payload)):
            raise BadLink("tampered")
        data = json.loads(payload)
        claim = Claim(
            coordinator_id=str(data["c"]),
            issued_at=datetime.fromtimestamp(int(data["i"]) / 1000, UTC),
            expires_at=datetime.fromtimestamp(int(data["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadLink("malformed") from exc
    if claim.expires_at <= now:
        raise BadLink("expired")
    return claim


def csrf_token(key: str, token: str) -> str:
    """The form token that goes with a link token: only a page served for that link knows it."""
    return _b64(_mac(key, b"csrf:" + token.encode("utf-8")))


class WebLinks:
    """Issues and checks links. `configured_secret` is WEB_SECRET; without it the key made once
    and kept in the database is used, so nothing has to be set up by hand."""

    def __init__(self, store: Store, base_url: str | None, configured_secret: str | None = None) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/") if base_url else None
        self._configured = configured_secret

    async def key(self, now: datetime) -> str:
        return self._configured or await stored_secret(self.store, now)

    async def issue(
        self, coordinator_id: str, now: datetime, valid: timedelta = DEFAULT_VALIDITY
    ) -> tuple[str, Claim]:
        """A fresh token for the coordinator (UnknownCoordinator when there is none by that id)."""
        async with self.store.reading() as session:
            if await coordinator_named(session, coordinator_id) is None:
                raise UnknownCoordinator(coordinator_id)
        claim = Claim(coordinator_id, now, now + valid)
        logger.info("web link issued for %s, valid until %s", coordinator_id, claim.expires_at.isoformat())
        return sign(await self.key(now), claim), claim

    def url(self, token: str) -> str:
        assert self.base_url is not None, "WEB_BASE_URL is set before links are handed out"
        return f"{self.base_url}{PATH}{token}"

    async def fresh_url(self, coordinator_id: str, now: datetime) -> tuple[str, Claim] | None:
        """A link for the digest, or None when the web view has no public address."""
        if self.base_url is None:
            return None
        try:
            token, claim = await self.issue(coordinator_id, now)
        except UnknownCoordinator:
            return None
        return self.url(token), claim

    async def accept(self, token: str, now: datetime) -> Claim:
        """The claim of a link that may be used now; BadLink (with the reason) otherwise."""
        claim = verify(await self.key(now), token, now)
        revoked = await revoked_before(self.store, claim.coordinator_id)
        if revoked is not None and claim.issued_at <= revoked:
            raise BadLink("revoked")
        async with self.store.reading() as session:
            if await coordinator_named(session, claim.coordinator_id) is None:
                raise BadLink("no such coordinator")
        return claim

    async def revoke(self, coordinator_id: str, now: datetime) -> None:
        async with self.store.reading() as session:
            if await coordinator_named(session, coordinator_id) is None:
                raise UnknownCoordinator(coordinator_id)
        await revoke_links(self.store, coordinator_id, now)
        logger.info("web links of %s revoked", coordinator_id)


async def link_used(store: Store, claim: Claim, path: str) -> None:
    """A coordinator's link was accepted for a page: one audit row (who, which page, which link
    by when it was issued; never the token)."""
    async with store.session() as session:
        await audit.record(
            session,
            AuditKind.COORDINATOR_LINK,
            actor=audit.coordinator(claim.coordinator_id),
            person_id=claim.coordinator_id,
            detail={"page": path[:200], "link_issued": claim.issued_at.isoformat(timespec="seconds")},
        )
    logger.debug("web link of %s used for %s", claim.coordinator_id, path)
