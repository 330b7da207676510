"""Teams with MICROSOFT_APP_ID set: botbuilder's JWT validation decides what is stored.

Microsoft's OpenID metadata and signing keys are served from 127.0.0.1 by a small threaded HTTP
server (botframework-connector fetches them with a blocking `requests.get`, so it cannot share the
test's event loop), and tokens are signed with a key made for the test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.teams import TeamsAdapter
from bot.engine import Engine
from storage.db import Store
from tests.conftest import table_rows
from tests.fakes.teams_connector import TANVIR_AAD, FakeTeamsConnector, TeamsUser

APP_ID = "0b5c6a2e-9d41-4f7a-8e3b-1c2d3e4f5a6b"
ISSUER = "https://api.botframework.com"


class OpenIdServer:
    """OpenID configuration and JWKS, as login.botframework.com publishes them."""

    def __init__(self, key: rsa.RSAPrivateKey, kid: str) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update(kid=kid, use="sig", endorsements=["msteams"])
        keys = {"keys": [jwk]}
        server_ref: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/v1/.well-known/openidconfiguration":
                    body: Any = {"issuer": ISSUER, "jwks_uri": server_ref["base"] + "/v1/.well-known/keys"}
                elif self.path == "/v1/.well-known/keys":
                    body = keys
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server_ref["base"] = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.metadata_url = server_ref["base"] + "/v1/.well-known/openidconfiguration"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> OpenIdServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid(signing_key: rsa.RSAPrivateKey) -> Iterator[OpenIdServer]:
    with OpenIdServer(signing_key, "test-key") as server:
        yield server


def token(key: rsa.RSAPrivateKey, service_url: str, audience: str = APP_ID, kid: str = "test-key") -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": audience, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class Bot:
    def __init__(self, adapter: TeamsAdapter, endpoint: str, connector: FakeTeamsConnector) -> None:
        self.adapter, self.endpoint, self.connector = adapter, endpoint, connector

    def user(self) -> TeamsUser:
        return TeamsUser(self.endpoint, self.connector.service_url, TANVIR_AAD, "Tanvir Hossain")


@pytest.fixture
async def bot(programme: Store, openid: OpenIdServer) -> AsyncIterator[Bot]:
    connector = FakeTeamsConnector()
    await connector.start()
    adapter = TeamsAdapter(
        engine=Engine(programme),
        clock=lambda: datetime(2027, 5, 3, 3, 0, tzinfo=UTC),
        on_stored=lambda: None,
        app_id=APP_ID,
        app_password="not-a-real-secret",
        service_url=connector.service_url,
        auth_settings={
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": openid.metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": ISSUER,
        },
    )
    app = web.Application()
    app.add_routes(adapter.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield Bot(adapter, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages", connector)
    finally:
        await runner.cleanup()
        await connector.stop()


async def reference(store: Store) -> dict[str, Any] | None:
    from sqlmodel import select

    from storage.models import ChatIdentity

    async with store.session() as session:
        identity = (
            await session.exec(select(ChatIdentity).where(ChatIdentity.external_id == TANVIR_AAD))
        ).one()
        return identity.reference


async def test_an_authenticated_installation_stores_its_service_url(
    bot: Bot, programme: Store, signing_key: rsa.RSAPrivateKey
) -> None:
    user = bot.user()
    install = user.activity("conversation_update_install")
    headers = {"Authorization": f"Bearer {token(signing_key, install['serviceUrl'])}"}
    assert await user.post(install, headers) == 201
    stored = await reference(programme)
    assert stored is not None and stored["service_url"] == bot.connector.service_url


@pytest.mark.parametrize(
    "case",
    ["no token", "another signing key", "another bot's token", "serviceUrl not the one signed"],
)
async def test_activities_that_fail_authentication_store_nothing(
    bot: Bot, programme: Store, signing_key: rsa.RSAPrivateKey, case: str
) -> None:
    user = bot.user()
    activities = [user.activity("conversation_update_install"), user.activity("message_text", text="help")]
    signed = token(signing_key, user.service_url)
    if case == "another signing key":
        signed = token(rsa.generate_private_key(public_exponent=65537, key_size=2048), user.service_url)
    elif case == "another bot's token":
        signed = token(signing_key, user.service_url, audience="11111111-2222-4333-8444-555555555555")
    elif case == "serviceUrl not the one signed":
        for activity in activities:
            activity["serviceUrl"] = "http://127.0.0.1:9/attacker/"
    headers = {} if case == "no token" else {"Authorization": f"Bearer {signed}"}
    before = await table_rows(programme)
    for activity in activities:
        assert await user.post(activity, headers) == 401
    assert await table_rows(programme) == before
    assert bot.connector.requests == []
