"""Every route of the web app's pages (``bot.web.pages.ROUTES``, the HR and admin pages
included) against every role and a signed-out visitor, as one table: a page opens only for
whom it is meant; everyone else gets 403 (signed out: the sign-in page), on both databases.
The table itself is shown to fail on a route added for the test with no guard, or the wrong
one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.web.hr.access import hr_page
from bot.web.hr.campaign_editor import template
from bot.web.pages import ROUTES
from bot.wiring import policy
from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.spec import parse
from dialogs.engine.content import load_content
from storage import campaign_guardrails as guard
from storage.models import Person
from storage.privacy import Reader
from tests.web.hr_world import CAMPAIGNS, csrf, make_hr_world
from tests.web.web_client import sign_in, web_client, web_settings

PUBLIC = {"/app/oidc/{provider}", "/app/oidc/{provider}/callback"}
"""Sign-in with a provider: for signed-out visitors by design."""
ROLES = ("signed_out", "employee", "manager", "hr", "admin")


def allowed(path: str, role: str) -> bool:
    """The table: who may open what."""
    if role == "signed_out":
        return False
    if path.startswith("/app/admin/"):
        return role == "admin"
    if path.startswith("/app/hr/"):
        return role in ("hr", "admin")
    if path.startswith("/app/team"):
        return role == "manager"
    return True  # one's own pages


def wrong_cells(
    engine: Engine, routes: Sequence[web.RouteDef], *, extra: Sequence[web.RouteDef] = ()
) -> list[str]:
    """Every route in ``routes`` opened by every role: one line per cell where what happened
    is not what :func:`allowed` says (``extra``: test-only routes added to the app)."""

    async def scenario() -> list[str]:
        async with web_client(engine, settings=web_settings(), routes=extra) as (client, clock):
            world = make_hr_world(engine, clock)
            text = template("growth-week", CAMPAIGNS)
            assert text is not None
            with Session(engine, expire_on_commit=False) as db:
                plan = plan_launch(db, parse(text), now=clock.now)
                owner = db.get(Person, world.priya.id)
                assert owner is not None
                campaign = launch(
                    db,
                    load_content(),
                    plan,
                    owner=owner,
                    now=clock.now,
                    policy=policy(web_settings()),
                )
                record = guard.record_launch(
                    db,
                    slug="other",
                    spec=plan.spec.raw,
                    spec_hash=plan.spec.hash,
                    audience=1,
                    reasons=["size"],
                    requested_by=Reader.of(owner),
                    now=clock.now,
                )
                db.commit()
            values = {
                "kind": "answer",
                "item_id": "999999",
                "what": "json",
                "person_id": str(world.ann.id),
                "campaign_id": str(campaign.id),
                "launch_id": str(record.id),
            }
            people = {
                "employee": world.staff[0],
                "manager": world.mia,
                "hr": world.henk,
                "admin": world.ada,
            }
            wrong: list[str] = []
            for role in ROLES:
                token = ""
                if role != "signed_out":
                    client.session.cookie_jar.clear()
                    await sign_in(client, engine, people[role], clock)
                    token = csrf(await (await client.get("/app/")).text())
                else:
                    client.session.cookie_jar.clear()
                for route in routes:
                    path = route.path.format(**values)
                    if route.method == "GET":
                        response = await client.get(path, allow_redirects=False)
                    else:
                        response = await client.post(
                            path, data={"csrf_token": token}, allow_redirects=False
                        )
                    status = response.status
                    location = response.headers.get("Location", "")
                    response.close()
                    refused = status == 403 or (
                        status in (302, 303) and location.startswith("/app/sign-in")
                    )
                    if refused == allowed(route.path, role):
                        wrong.append(
                            f"{role:10} {route.method:4} {route.path}: {status} {location}"
                        )
            return wrong

    return asyncio.run(scenario())


def test_every_route_for_every_role(engine: Engine) -> None:
    routes = [r for r in ROUTES if isinstance(r, web.RouteDef) and r.path not in PUBLIC]
    assert {r.path for r in ROUTES if isinstance(r, web.RouteDef)} - {
        r.path for r in routes
    } == PUBLIC
    assert any(r.path.startswith("/app/hr/") for r in routes)
    assert wrong_cells(engine, routes) == []


async def _open_door(request: web.Request) -> web.StreamResponse:
    return web.Response(text="anyone gets in")


def test_the_table_reports_a_door_left_open_or_guarded_by_the_wrong_role(engine: Engine) -> None:
    """The check can fail: an HR route with no guard at all, and an admin route guarded for
    hr, each added to the app for this test only, are both reported, for exactly the roles
    that get in though the table says they may not."""
    open_door = web.get("/app/hr/open-door", _open_door)
    wrong_guard = web.get("/app/admin/wrong-guard", hr_page(_open_door))
    doors = [open_door, wrong_guard]
    reported = wrong_cells(engine, doors, extra=doors)
    assert [(line.split()[0], line.split()[2].rstrip(":")) for line in reported] == [
        ("signed_out", "/app/hr/open-door"),
        ("employee", "/app/hr/open-door"),
        ("manager", "/app/hr/open-door"),
        ("hr", "/app/admin/wrong-guard"),
    ]
    assert all(": 200" in line for line in reported)
