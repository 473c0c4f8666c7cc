"""Starting the web app in tests: ``regie serve``'s aiohttp application with the web part set
up (``bot.web.app.setup_web``) on a test database, an injected clock, and a browser-like client
that keeps cookies. ``sign_in`` signs a person in the way people do: a one-time link, opened,
and the button on its page pressed (``use_link``).

    async with web_client(engine) as (client, clock):
        await sign_in(client, engine, person, clock)
        page = await client.get("/app/")
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.server import build_web_app
from bot.web.app import setup_web
from storage import links
from storage.models import LinkPurpose, Person

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FORM = re.compile(r'<form method="post" action="((?!/app/sign-out)[^"]*)"')
"""A form on a page other than the sign-out form every signed-in page has."""


@dataclass
class Clock:
    """The web app's clock: tests move it (``clock.now += timedelta(minutes=11)``)."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def web_settings(**values: Any) -> Settings:
    return load_settings(_env_file=None, **values)


@asynccontextmanager
async def web_client(
    engine: Engine,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
    routes: Sequence[web.RouteDef] = (),
) -> AsyncIterator[tuple[TestClient[Any, Any], Clock]]:
    """``routes``: extra routes for the test (added before the web app's own)."""
    clock = clock or Clock()
    app = build_web_app(channels={}, routes={})
    app.router.add_routes(routes)
    setup_web(app, engine, settings or web_settings(), clock=clock)
    async with TestClient(TestServer(app)) as client:
        yield client, clock


def add_person(
    engine: Engine,
    *,
    email: str = "ann@example.com",
    name: str = "Ann",
    language: str = "en",
    **values: Any,
) -> Person:
    with Session(engine, expire_on_commit=False) as db:
        person = Person(email=email, name=name, language=language, **values)
        db.add(person)
        db.commit()
        return person


def issue(engine: Engine, person: Person, purpose: LinkPurpose, now: datetime) -> str:
    assert person.id is not None
    with Session(engine) as db:
        link = links.issue(db, person.id, purpose, now=now)
        db.commit()
        return link.token


async def use_link(client: TestClient[Any, Any], path: str) -> ClientResponse:
    """Open a one-time link and press the one button its page shows, as a person does (the
    page's form posts to the link's own address); the answer to the press, not followed."""
    opened = await client.get(path, allow_redirects=False)
    page = await opened.text()
    assert opened.status == 200, page
    forms = FORM.findall(page)
    assert len(forms) == 1, page  # one button (a signed-in page also has the sign-out form)
    return await client.post(html.unescape(forms[0]), allow_redirects=False)


async def sign_in(
    client: TestClient[Any, Any], engine: Engine, person: Person, clock: Clock
) -> None:
    """Sign ``person`` in with a fresh one-time link (the client keeps the session cookie):
    opened, then its "Sign in" button pressed."""
    token = issue(engine, person, LinkPurpose.SIGN_IN, clock.now)
    response = await use_link(client, f"/app/sign-in/{token}")
    assert response.status == 303, await response.text()
