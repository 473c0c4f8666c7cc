"""OpenID Connect sign-in against a local OpenID provider (``oidc-provider-mock``, a real
authorization server in a thread): the code flow with state, nonce and PKCE, the ID token
checked against the provider's keys, and the person found as the chat finds them — Entra ID's
``oid`` (the Teams id), Slack's user id, or a verified e-mail. Nobody unknown gets in and
nothing is created."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import oidc_provider_mock
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.config import SettingsError, load_settings
from bot.web.pages.sign_in_oidc import PENDING_COOKIE
from storage.models import AuditEntry, Person
from tests.web.web_client import Clock, add_person, web_client, web_settings


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def oidc_settings(issuer: str) -> Any:
    return web_settings(
        oidc_entra_issuer=issuer,
        oidc_entra_client_id="regie-entra",
        oidc_entra_client_secret="entra-secret",
        oidc_slack_issuer=issuer,
        oidc_slack_client_id="regie-slack",
        oidc_slack_client_secret="slack-secret",
    )


async def at_provider(
    client: TestClient[Any, Any], issuer: str, provider: str, claims: dict[str, Any]
) -> str:
    """Start signing in, and sign in at the provider as someone with ``claims``: the path and
    query of the callback the provider sends the browser back to."""
    start = await client.get(f"/app/oidc/{provider}", allow_redirects=False)
    assert start.status == 303, await start.text()
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    sub = str(claims.get("sub", "someone"))
    async with aiohttp.ClientSession() as browser:
        async with browser.put(f"{issuer}/users/{quote(sub)}", json=claims) as response:
            assert response.status == 204
        async with browser.post(authorize, data={"sub": sub}, allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            back = urlsplit(response.headers["Location"])
    assert back.path == f"/app/oidc/{provider}/callback"
    return f"{back.path}?{back.query}"


def run(engine: Engine, issuer: str, scenario: Any) -> None:
    async def main() -> None:
        # The provider signs with the real time; the web app's clock starts there too.
        clock = Clock(datetime.now(UTC))  # clock-ok: the local provider's tokens use it
        async with web_client(engine, settings=oidc_settings(issuer), clock=clock) as (c, _):
            await scenario(c, clock)

    asyncio.run(main())


async def signed_in_as(client: TestClient[Any, Any]) -> str:
    response = await client.get("/app/", allow_redirects=False)
    if response.status != 200:
        return ""
    text = await response.text()
    return text.split('<p class="lead">', 1)[1].split("</p>", 1)[0]


def people(engine: Engine) -> int:
    with Session(engine) as db:
        return int(db.exec(select(func.count()).select_from(Person)).one())


@pytest.mark.parametrize(
    ("provider", "claims", "who"),
    [
        ("entra", {"sub": "e1", "oid": "aad-ann", "email": "ann@other.example"}, "Ann"),
        ("slack", {"sub": "s1", "https://slack.com/user_id": "U0BOB"}, "Bob"),
        ("slack", {"sub": "s2", "email": "MIA@example.com", "email_verified": True}, "Mia"),
    ],
)
def test_sign_in_finds_the_person_as_the_chat_does(
    engine: Engine, issuer: str, provider: str, claims: dict[str, Any], who: str
) -> None:
    add_person(engine, email="ann@example.com", name="Ann", teams_aad_id="aad-ann")
    add_person(engine, email="bob@example.com", name="Bob", slack_user_id="U0BOB")
    mia = add_person(engine, email="mia@example.com", name="Mia")

    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        callback = await at_provider(client, issuer, provider, claims)
        response = await client.get(callback, allow_redirects=False)
        assert response.status == 303, await response.text()
        assert response.headers["Location"] == "/app/"
        assert f"Hi {who}," in await signed_in_as(client)

    run(engine, issuer, scenario)
    with Session(engine) as db:
        entries = db.exec(select(AuditEntry).where(AuditEntry.action == "web_sign_in")).all()
        assert [e.detail for e in entries] == [{"via": provider}]
        assert entries[0].actor_id == entries[0].subject_id
        if who == "Mia":
            assert entries[0].subject_id == mia.id


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x1", "email": "stranger@example.com", "email_verified": True},
        {"sub": "x2", "email": "mia@example.com"},  # not said to be verified
        {"sub": "x3", "email": "mia@example.com", "email_verified": False},
        {"sub": "x4", "oid": "aad-nobody"},
    ],
)
def test_someone_regie_does_not_know_gets_a_friendly_page_and_nothing_is_created(
    engine: Engine, issuer: str, claims: dict[str, Any]
) -> None:
    add_person(engine, email="mia@example.com", name="Mia")

    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        callback = await at_provider(client, issuer, "entra", claims)
        response = await client.get(callback, allow_redirects=False)
        assert response.status == 403
        assert "Regie doesn't know you yet" in html.unescape(await response.text())
        assert await signed_in_as(client) == ""

    run(engine, issuer, scenario)
    assert people(engine) == 1


def test_a_callback_this_browser_did_not_start_is_refused(engine: Engine, issuer: str) -> None:
    add_person(engine, email="ann@example.com", name="Ann", teams_aad_id="aad-ann")

    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        callback = await at_provider(client, issuer, "entra", {"sub": "a", "oid": "aad-ann"})
        forged = callback.replace("state=", "state=x")
        response = await client.get(forged, allow_redirects=False)
        assert response.status == 400
        # The pending sign-in is gone, so the real callback no longer works either.
        response = await client.get(callback, allow_redirects=False)
        assert response.status == 400
        assert await signed_in_as(client) == ""

    run(engine, issuer, scenario)


def test_an_id_token_with_another_nonce_is_refused(engine: Engine, issuer: str) -> None:
    add_person(engine, email="ann@example.com", name="Ann", teams_aad_id="aad-ann")

    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        callback = await at_provider(client, issuer, "entra", {"sub": "a", "oid": "aad-ann"})
        cookie = client.session.cookie_jar.filter_cookies(client.make_url(callback))
        provider, state, _nonce, verifier = cookie[PENDING_COOKIE].value.split("|")[0].split(".")
        client.session.cookie_jar.update_cookies(
            {PENDING_COOKIE: f"{provider}.{state}.replayed.{verifier}|%2Fapp%2F"},
            client.make_url("/app/oidc/entra/"),
        )
        response = await client.get(callback, allow_redirects=False)
        assert response.status == 400
        assert "couldn't confirm who you are" in html.unescape(await response.text())
        assert await signed_in_as(client) == ""

    run(engine, issuer, scenario)


def test_an_expired_id_token_is_refused(engine: Engine, issuer: str) -> None:
    add_person(engine, email="ann@example.com", name="Ann", teams_aad_id="aad-ann")

    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        callback = await at_provider(client, issuer, "entra", {"sub": "a", "oid": "aad-ann"})
        clock.advance(hours=2)  # the provider's tokens live an hour
        response = await client.get(callback, allow_redirects=False)
        assert response.status == 400
        assert await signed_in_as(client) == ""

    run(engine, issuer, scenario)


def test_an_unknown_provider_is_not_found(engine: Engine, issuer: str) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        response = await client.get("/app/oidc/google", allow_redirects=False)
        assert response.status == 404

    run(engine, issuer, scenario)


def test_sign_in_without_a_reachable_provider_says_so(engine: Engine) -> None:
    async def main() -> None:
        settings = oidc_settings("http://127.0.0.1:9")  # nothing listens there
        async with web_client(engine, settings=settings) as (client, _):
            response = await client.get("/app/oidc/entra", allow_redirects=False)
            assert response.status == 503
            assert "can't be reached right now" in html.unescape(await response.text())

    asyncio.run(main())


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            {"oidc_entra_client_id": "x"},
            "REGIE_OIDC_ENTRA_CLIENT_SECRET=***: set both REGIE_OIDC_ENTRA_CLIENT_ID and "
            "REGIE_OIDC_ENTRA_CLIENT_SECRET, or neither",
        ),
        (
            {"oidc_entra_client_id": "x", "oidc_entra_client_secret": "y"},
            "REGIE_OIDC_ENTRA_CLIENT_SECRET=***: Entra ID sign-in needs REGIE_OIDC_ENTRA_ISSUER "
            "as well",
        ),
        (
            {"oidc_entra_issuer": "https://login.microsoftonline.com/common/v2.0"},
            "REGIE_OIDC_ENTRA_ISSUER=https://login.microsoftonline.com/common/v2.0: use your "
            "own tenant's issuer, https://login.microsoftonline.com/<tenant id>/v2.0, not common",
        ),
        (
            {"oidc_slack_issuer": "http://slack.example"},
            "REGIE_OIDC_SLACK_ISSUER=http://slack.example: an issuer must be an https URL "
            "(http only on localhost)",
        ),
    ],
)
def test_a_bad_sign_in_setting_is_one_clear_line(values: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, **values)
    assert raised.value.lines == [line]


def test_providers_are_on_only_when_configured() -> None:
    from bot.web.oidc import providers

    assert providers(web_settings()) == {}
    settings = web_settings(oidc_slack_client_id="id", oidc_slack_client_secret="secret")
    found = providers(settings)
    assert list(found) == ["slack"]
    assert found["slack"].discovery_url == "https://slack.com/.well-known/openid-configuration"
    entra = providers(
        web_settings(
            oidc_entra_issuer="https://login.microsoftonline.com/tenant-1/v2.0/",
            oidc_entra_client_id="id",
            oidc_entra_client_secret="secret",
        )
    )["entra"]
    assert entra.discovery_url == (
        "https://login.microsoftonline.com/tenant-1/v2.0/.well-known/openid-configuration"
    )


def test_the_sign_in_page_offers_each_configured_provider(engine: Engine, issuer: str) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock) -> None:
        page = html.unescape(await (await client.get("/app/sign-in")).text())
        assert '<a class="button" href="/app/oidc/entra">Sign in with Microsoft</a>' in page
        assert '<a class="button" href="/app/oidc/slack">Sign in with Slack</a>' in page

    run(engine, issuer, scenario)

    async def without() -> None:
        async with web_client(engine) as (client, _):
            page = await (await client.get("/app/sign-in")).text()
            assert "/app/oidc/" not in page

    asyncio.run(without())
