"""The web foundation without a browser (aiohttp's test client), on SQLite and PostgreSQL:
security headers, cookie flags, a new session at every sign-in, used and expired links, links
that survive a scanner opening them, no open redirect, CSRF, sign-out."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.web import context
from bot.web.sessions import COOKIE, SECURE_COOKIE, signed_in
from storage.models import AuditEntry, LinkPurpose, OneTimeLink, WebSession
from tests.web.web_client import add_person, issue, sign_in, use_link, web_client, web_settings


@signed_in
async def whoami(request: web.Request) -> web.Response:
    person = context.person(request)
    assert person is not None
    return web.Response(text=f"signed in as {person.email}")


async def change(request: web.Request) -> web.Response:
    form = await request.post()
    return web.Response(text=f"changed {form.get('what')!s}")


TEST_ROUTES = [web.get("/app/test/whoami", whoami), web.post("/app/test/change", change)]


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def sessions(engine: Engine) -> list[WebSession]:
    with Session(engine) as db:
        return list(db.exec(select(WebSession)))


def test_every_response_carries_a_strict_policy(engine: Engine) -> None:
    async def scenario() -> None:
        async with web_client(engine) as (client, _clock):
            for path in ("/app/sign-in", "/download/nothing", "/healthz"):
                response = await client.get(path)
                csp = response.headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
                assert "style-src 'self'" in csp and "base-uri 'none'" in csp
                assert "form-action 'self'" in csp and "script-src" not in csp
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert response.headers["Referrer-Policy"] == "no-referrer"

    run(scenario)


def test_sign_in_by_link_sets_a_safe_cookie_and_a_new_session_each_time(engine: Engine) -> None:
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            signed_out = await client.get("/app/test/whoami", allow_redirects=False)
            assert signed_out.status == 303
            assert signed_out.headers["Location"] == "/app/sign-in?next=/app/test/whoami"

            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            response = await use_link(client, f"/app/sign-in/{token}?next=/app/test/whoami")
            assert response.status == 303
            assert response.headers["Location"] == "/app/test/whoami"
            cookie = response.headers["Set-Cookie"]
            assert cookie.startswith(f"{COOKIE}=")
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
            assert "Secure" not in cookie  # served over http here
            first_id = response.cookies[COOKIE].value
            assert first_id not in str([s.id_hash for s in sessions(engine)])
            page = await client.get("/app/test/whoami")
            assert await page.text() == "signed in as ann@example.com"

            # A second sign-in in the same browser: a new id, the old session gone.
            await sign_in(client, engine, ann, clock)
            second_id = client.session.cookie_jar.filter_cookies(client.make_url("/app/"))
            assert second_id[COOKIE].value != first_id
            assert len(sessions(engine)) == 1

    run(scenario)
    with Session(engine) as db:
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "web_sign_in")).all()
    assert [(e.actor_id, e.subject_id) for e in audit] == [(ann.id, ann.id)] * 2


def test_a_planted_session_id_is_worth_nothing(engine: Engine) -> None:
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            client.session.cookie_jar.update_cookies({COOKIE: "chosen-by-an-attacker"})
            await sign_in(client, engine, ann, clock)
            jar = client.session.cookie_jar.filter_cookies(client.make_url("/app/"))
            assert jar[COOKIE].value != "chosen-by-an-attacker"
        async with web_client(engine, routes=TEST_ROUTES) as (attacker, _clock):
            attacker.session.cookie_jar.update_cookies({COOKIE: "chosen-by-an-attacker"})
            response = await attacker.get("/app/test/whoami", allow_redirects=False)
            assert response.status == 303

    run(scenario)


def test_over_https_the_cookie_is_secure_and_host_only(engine: Engine) -> None:
    ann = add_person(engine)
    settings = web_settings(public_url="https://regie.example.com")

    async def scenario() -> None:
        async with web_client(engine, settings=settings) as (client, clock):
            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            response = await use_link(client, f"/app/sign-in/{token}")
            cookie = response.headers["Set-Cookie"]
            assert cookie.startswith(f"{SECURE_COOKIE}=")
            assert "Secure" in cookie and "HttpOnly" in cookie and "Domain" not in cookie

    run(scenario)


def test_a_used_or_expired_link_gets_a_friendly_page_in_the_owners_language(
    engine: Engine,
) -> None:
    ann = add_person(engine, language="nl")

    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            assert (await use_link(client, f"/app/sign-in/{token}")).status == 303
            client.session.cookie_jar.clear()
            again = await client.get(f"/app/sign-in/{token}", allow_redirects=False)
            assert again.status == 410
            text = await again.text()
            assert "Deze link werkt niet meer" in text and 'lang="nl"' in text
            assert "<form" not in text  # no button to press
            assert "Set-Cookie" not in again.headers
            pressed = await client.post(f"/app/sign-in/{token}", allow_redirects=False)
            assert pressed.status == 410 and "Set-Cookie" not in pressed.headers
            assert "Deze link werkt niet meer" in await pressed.text()

            late = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            clock.advance(minutes=10)
            expired = await client.get(f"/app/sign-in/{late}", allow_redirects=False)
            assert expired.status == 410 and "Set-Cookie" not in expired.headers

            download = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON, clock.now)
            wrong = await client.get(f"/app/sign-in/{download}", allow_redirects=False)
            assert wrong.status == 410  # a download link signs nobody in
            unknown = await client.get("/app/sign-in/made-up", allow_redirects=False)
            assert unknown.status == 410 and "This link no longer works" in await unknown.text()

    run(scenario)
    assert len(sessions(engine)) == 1  # the first sign-in's; none from the refused links


def test_after_sign_in_only_a_path_inside_the_app_is_followed(engine: Engine) -> None:
    ann = add_person(engine)
    hostile = [
        "https://evil.example.com/app/",
        "//evil.example.com/app/",
        "/app//evil.example.com",
        "/app/\\evil.example.com",
        "/\\evil.example.com",
        "/somewhere-else",
        "javascript:alert(1)",
        "/app/\r\nSet-Cookie: x=1",
    ]

    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            for target in hostile:
                token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
                query = urlencode({"next": target})
                response = await use_link(client, f"/app/sign-in/{token}?{query}")
                assert response.status == 303
                assert response.headers["Location"] == "/app/", target
                assert "Set-Cookie: x" not in str(response.headers)
                clock.advance(minutes=13)  # stay under the hourly limit

            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            query = urlencode({"next": "/app/team?since=2026-11-01"})
            inside = await use_link(client, f"/app/sign-in/{token}?{query}")
            assert inside.headers["Location"] == "/app/team?since=2026-11-01"

    run(scenario)


def test_a_change_without_the_csrf_token_is_refused(engine: Engine) -> None:
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            signed_out = await client.post(
                "/app/test/change", data={"what": "x"}, allow_redirects=False
            )
            assert signed_out.status == 303  # nobody: nothing to change
            await sign_in(client, engine, ann, clock)
            page = await client.get("/app/sign-in?signed_out=1")
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
            assert token is not None

            refused = await client.post("/app/test/change", data={"what": "x"})
            assert refused.status == 403
            assert "That didn" in await refused.text()
            wrong = await client.post("/app/test/change", data={"what": "x", "csrf_token": "no"})
            assert wrong.status == 403
            other = await client.post("/app/test/change", json={"what": "x"})
            assert other.status == 403

            ok = await client.post(
                "/app/test/change", data={"what": "x", "csrf_token": token.group(1)}
            )
            assert await ok.text() == "changed x"
            header = await client.post(
                "/app/test/change",
                data={"what": "y"},
                headers={"X-CSRF-Token": token.group(1)},
            )
            assert await header.text() == "changed y"

    run(scenario)


def test_sign_out_ends_the_session_everywhere(engine: Engine) -> None:
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            await sign_in(client, engine, ann, clock)
            jar = client.session.cookie_jar.filter_cookies(client.make_url("/app/"))
            session_id = jar[COOKIE].value
            page = await client.get("/app/sign-in?signed_out=1")
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
            assert token is not None
            response = await client.post(
                "/app/sign-out", data={"csrf_token": token.group(1)}, allow_redirects=False
            )
            assert response.status == 303
            assert response.headers["Location"] == "/app/sign-in?signed_out=1"
            assert sessions(engine) == []
            # The old cookie, replayed, signs nobody in.
            async with web_client(engine, routes=TEST_ROUTES, clock=clock) as (replay, _):
                replay.session.cookie_jar.update_cookies({COOKIE: session_id})
                again = await replay.get("/app/test/whoami", allow_redirects=False)
                assert again.status == 303

    run(scenario)


def test_a_session_ends_after_being_idle(engine: Engine) -> None:
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            await sign_in(client, engine, ann, clock)
            clock.advance(minutes=90)
            assert (await client.get("/app/test/whoami", allow_redirects=False)).status == 200
            clock.advance(minutes=90)  # 90 minutes since the last request: still in
            assert (await client.get("/app/test/whoami", allow_redirects=False)).status == 200
            clock.advance(hours=2, seconds=1)
            assert (await client.get("/app/test/whoami", allow_redirects=False)).status == 303

    run(scenario)


def test_a_head_request_does_not_use_up_a_link(engine: Engine) -> None:
    """Link previews and scanners may look at a URL: only the press of the button spends it."""
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            token = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON, clock.now)
            assert (await client.head(f"/download/{token}")).status == 405
            assert (await client.head(f"/app/sign-in/{token}")).status == 405
            pressed = await use_link(client, f"/download/{token}")
            assert pressed.status == 200 and json.loads(await pressed.read())["person"]

    run(scenario)


def link_rows(engine: Engine) -> list[OneTimeLink]:
    with Session(engine) as db:
        return list(db.exec(select(OneTimeLink).order_by(OneTimeLink.id)))  # type: ignore[arg-type]


def audited(engine: Engine) -> list[str]:
    with Session(engine) as db:
        return [e.action for e in db.exec(select(AuditEntry))]


def test_a_scanner_opening_a_link_leaves_it_working_for_the_person(engine: Engine) -> None:
    """Safe Links and friends open every link in a message before the person does: opening
    (GET) only shows the button; nothing is used, audited or signed in until it is pressed."""
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            sign_in_token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            download_token = issue(engine, ann, LinkPurpose.DOWNLOAD_PAGE, clock.now)
            async with web_client(engine, clock=clock) as (scanner, _):
                for path in (f"/app/sign-in/{sign_in_token}", f"/download/{download_token}"):
                    for _ in range(3):
                        opened = await scanner.get(path)
                        assert opened.status == 200
                        assert "Set-Cookie" not in opened.headers
                        assert "Content-Disposition" not in opened.headers
                        assert opened.headers["Cache-Control"] == "no-store"
                page = await (await scanner.get(f"/download/{download_token}")).text()
                assert (
                    "Download my data" in page
                    and "<h1>Download &#39;My development&#39;</h1>" in page
                )
            assert [row.used_at for row in link_rows(engine)] == [None, None]
            assert sessions(engine) == [] and audited(engine) == []

            clock.advance(minutes=3)  # the person clicks a little later
            signed = await use_link(client, f"/app/sign-in/{sign_in_token}?next=/app/test/whoami")
            assert signed.status == 303 and signed.headers["Location"] == "/app/test/whoami"
            assert await (await client.get("/app/test/whoami")).text() == (
                "signed in as ann@example.com"
            )
            got = await use_link(client, f"/download/{download_token}")
            assert got.status == 200 and got.headers["Content-Type"].startswith("text/html")
            assert got.headers["Content-Disposition"].startswith("attachment;")
            # Pressed twice (or the page kept open): the second press gets the "used" page.
            again = await client.post(f"/download/{download_token}")
            assert again.status == 410 and "This download link no longer works" in (
                await again.text()
            )

    run(scenario)
    assert [row.used_at is not None for row in link_rows(engine)] == [True, True]
    assert sorted(audited(engine)) == ["download", "web_sign_in"]


def test_the_button_page_speaks_the_owners_language_and_runs_nothing(engine: Engine) -> None:
    ann = add_person(engine, email="an@example.com", language="nl")

    async def scenario() -> None:
        async with web_client(engine) as (client, clock):
            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            opened = await client.get(f"/app/sign-in/{token}?next=/app/team")
            page = await opened.text()
            assert '<html lang="nl">' in page
            assert "<h1>Inloggen bij Regie</h1>" in page
            assert f'<form method="post" action="/app/sign-in/{token}?next=/app/team">' in page
            assert '<button type="submit">Inloggen</button>' in page
            assert "<script" not in page and "style=" not in page and "csrf_token" not in page
            csp = opened.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "form-action 'self'" in csp
            assert "script-src" not in csp
            download = issue(engine, ann, LinkPurpose.DOWNLOAD_JSON, clock.now)
            page = await (await client.get(f"/download/{download}")).text()
            assert "<h1>Al je gegevens downloaden</h1>" in page
            assert '<button type="submit">Mijn gegevens downloaden</button>' in page

    run(scenario)


def test_only_the_link_s_own_post_skips_the_csrf_check_and_only_from_our_pages(
    engine: Engine,
) -> None:
    """The sign-in button posts without a session (the token is the credential). A post from
    another site is refused even with a real token — it could only be the forger's own link,
    signing the victim in as the forger — and leaves the link working."""
    ann = add_person(engine)

    async def scenario() -> None:
        async with web_client(engine, routes=TEST_ROUTES) as (client, clock):
            token = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            path = f"/app/sign-in/{token}"
            for forged in (
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site"},
                {"Origin": "https://evil.example.com"},
            ):
                refused = await client.post(path, headers=forged, allow_redirects=False)
                assert refused.status == 403, forged
                assert "Set-Cookie" not in refused.headers
            assert sessions(engine) == [] and link_rows(engine)[0].used_at is None

            unknown = await client.post("/app/sign-in/made-up", allow_redirects=False)
            assert unknown.status == 410 and "Set-Cookie" not in unknown.headers
            # Every other change still needs a session and its token.
            other = await client.post("/app/test/change", data={"what": "x"}, allow_redirects=False)
            assert other.status == 303 and other.headers["Location"] == "/app/sign-in"

            # Our own page's form: the browser says same-origin and, with no referrer, Origin null.
            ours = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
            pressed = await client.post(path, headers=ours, allow_redirects=False)
            assert pressed.status == 303 and len(sessions(engine)) == 1

            # An older browser without Sec-Fetch-Site, naming our own host as Origin.
            second = issue(engine, ann, LinkPurpose.SIGN_IN, clock.now)
            own = {"Origin": f"http://{client.host}:{client.port}"}
            signed = await client.post(f"/app/sign-in/{second}", headers=own, allow_redirects=False)
            assert signed.status == 303

    run(scenario)
