"""``setup_web``: the web app on ``regie serve``'s one aiohttp application.

Routes of the foundation: ``GET``/``POST /app/sign-in/{token}`` (a one-time sign-in link:
opening it shows a button, the button signs in), ``GET /app/sign-in`` (how to sign in),
``POST /app/sign-out``, ``GET``/``POST /download/{token}`` (a "download my data" file, the same
way), ``/app/static/`` (our own CSS) and a minimal ``GET /app/`` home.
The pages themselves come from ``bot/web/pages/__init__.py``: its ``ROUTES`` (aiohttp route
definitions, e.g. ``web.get("/app/", home)``) are added first, and a page there replaces the
foundation's route for the same method and path.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.web import context, signin
from bot.web.calendar import calendar
from bot.web.download import download, download_page
from bot.web.oidc import providers
from bot.web.security import csrf_middleware, headers_middleware
from bot.web.sessions import csrf_token, end_session, session_middleware
from bot.web.templating import STATIC, Words, environment_options
from dialogs.engine.content import Content, load_content
from storage.models import utcnow

PAGES_MODULE = "bot.web.pages"


def setup_web(
    app: web.Application,
    engine: Engine,
    settings: Settings,
    *,
    content: Content | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Add the web app to ``app`` (before it starts): keys, middlewares, templates, routes."""
    app[context.ENGINE] = engine
    app[context.SETTINGS] = settings
    app[context.CONTENT] = content or load_content()
    app[context.CLOCK] = clock
    app.middlewares.extend([headers_middleware, session_middleware])
    aiohttp_jinja2.setup(  # adds the middleware that runs _template_context
        app, context_processors=[_template_context], default_helpers=False, **environment_options()
    )
    app.middlewares.append(csrf_middleware)  # after it: its 403 page is a template too
    pages = _page_routes()
    taken = {(r.method, r.path) for r in pages if isinstance(r, web.RouteDef)}
    ours = [
        web.get("/app/sign-in/{token}", signin.sign_in_page, allow_head=False),
        web.post("/app/sign-in/{token}", signin.sign_in_link),
        web.get("/app/sign-in", signin.how_to_sign_in),
        web.post("/app/sign-out", end_session),
        web.get("/download/{token}", download_page, allow_head=False),
        web.post("/download/{token}", download),
        web.get("/calendar/{token}", calendar, allow_head=False),
        web.get("/app", signin.to_home),
        web.get("/app/", signin.home),
    ]
    app.router.add_routes(pages)
    app.router.add_routes([r for r in ours if (r.method, r.path) not in taken])
    app.router.add_static("/app/static/", STATIC, name="static", append_version=True)


def _page_routes() -> Sequence[web.AbstractRouteDef]:
    """The pages' routes (``bot/web/pages/__init__.py`` ``ROUTES``), if there are any yet."""
    try:
        module = importlib.import_module(PAGES_MODULE)
    except ModuleNotFoundError as error:
        if error.name != PAGES_MODULE:
            raise
        return []
    return list(getattr(module, "ROUTES", []))


async def _template_context(request: web.Request) -> dict[str, Any]:
    """What every template sees: ``t``, ``fmt`` and ``lang`` (in the person's language and
    zone, or the deployment's), ``person``, ``csrf_token`` and ``static`` (a URL of ours)."""
    person = context.person(request)
    settings = context.settings(request)
    words = Words(
        context.content(request),
        context.language(request),
        person.timezone if person is not None else settings.timezone,
    )
    router = request.app.router

    def static(filename: str) -> str:
        return str(router["static"].url_for(filename=filename))

    return words.context() | {
        "person": person,
        "csrf_token": csrf_token(request),
        "static": static,
        "sign_in_with": [(name, p.label) for name, p in providers(settings).items()],
    }
