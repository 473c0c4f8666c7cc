"""Who is signed in: database sessions (``storage/web_sessions.py``) behind a cookie.

The cookie is ``HttpOnly``, ``SameSite=Lax`` and, when ``REGIE_PUBLIC_URL`` is https,
``Secure`` with the ``__Host-`` prefix (so no subdomain can set it). Every sign-in starts a new
session with a new id (:func:`start_session`) and ends the one the browser had: an id planted
before sign-in is worth nothing. Signing out deletes the session.

For pages: ``request["person"]`` (a :class:`~storage.models.Person` or None, set by
:func:`session_middleware` for every path under ``/app/``), :func:`signed_in` (a decorator:
signed out, the visitor is sent to the page that says how to sign in), :func:`csrf_token`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.urls import HOME, safe_next
from storage import web_sessions
from storage.models import Person, WebSession
from storage.web_sessions import LIFETIME

SESSION: web.RequestKey[WebSession | None] = web.RequestKey("web_session")
"""``request[SESSION]``: the live :class:`~storage.models.WebSession`, or None."""
COOKIE = "regie_session"
SECURE_COOKIE = "__Host-regie_session"
SIGN_IN_HELP = "/app/sign-in"
"""The page that tells a signed-out visitor how to sign in (ask the bot for a link)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cookie_name(request: web.Request) -> str:
    return SECURE_COOKIE if _secure(request) else COOKIE


def _secure(request: web.Request) -> bool:
    return context.settings(request).base_url.startswith("https://")


def in_web_app(request: web.Request) -> bool:
    return request.path == HOME.rstrip("/") or request.path.startswith(HOME)


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under ``/app/``: the session and person the cookie names (both None when signed out)."""
    request[SESSION] = None
    request[context.PERSON] = None
    if in_web_app(request):
        session_id = request.cookies.get(cookie_name(request), "")
        if session_id:
            found = await context.in_thread(lambda: _load(request, session_id))
            if found is not None:
                request[SESSION], request[context.PERSON] = found
    return await handler(request)


def _load(request: web.Request, session_id: str) -> tuple[WebSession, Person] | None:
    with Session(context.engine(request), expire_on_commit=False) as db:
        session = web_sessions.find(db, session_id, now=context.now(request))
        person = db.get(Person, session.person_id) if session is not None else None
        db.commit()
        if session is None or person is None:
            return None
        return session, person


def redirect(location: str) -> web.Response:
    """303 See Other: after a sign-in, sign-out or form, the browser GETs ``location``."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def csrf_token(request: web.Request) -> str:
    """The token a form under ``/app/`` sends back (hidden field ``csrf_token``, or the
    ``X-CSRF-Token`` header); empty when signed out."""
    session = request.get(SESSION)
    return session.csrf_secret if session is not None else ""


def signed_in(handler: Handler) -> Handler:
    """A page for signed-in people only; anyone else goes to the "how to sign in" page
    (which remembers where they wanted to go)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        if context.person(request) is None:
            target = safe_next(request.path_qs)
            raise web.HTTPSeeOther(f"{SIGN_IN_HELP}?next={quote(target, safe='/')}")
        return await handler(request)

    return guarded


async def start_session(
    request: web.Request, person: Person, *, next_path: str | None = None
) -> web.Response:
    """Sign ``person`` in: a new session (the browser's old one, if any, is ended), its cookie
    set on a redirect to ``next_path`` (only a path inside ``/app/``; else the home page)."""
    assert person.id is not None
    person_id = person.id
    old = request.cookies.get(cookie_name(request), "")

    def work() -> str:
        with Session(context.engine(request)) as db:
            if old:
                web_sessions.end(db, old)
            started = web_sessions.start(db, person_id, now=context.now(request))
            db.commit()
            return started.session_id

    session_id = await context.in_thread(work)
    response = redirect(safe_next(next_path))
    response.set_cookie(
        cookie_name(request),
        session_id,
        path="/",
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure(request),
        samesite="Lax",
    )
    return response


async def end_session(request: web.Request) -> web.Response:
    """Sign out: the session is deleted and the cookie cleared; to the signed-out page."""
    session_id = request.cookies.get(cookie_name(request), "")

    def work() -> None:
        with Session(context.engine(request)) as db:
            web_sessions.end(db, session_id)
            db.commit()

    if session_id:
        await context.in_thread(work)
    response = redirect(f"{SIGN_IN_HELP}?signed_out=1")
    response.del_cookie(
        cookie_name(request), path="/", secure=_secure(request), httponly=True, samesite="Lax"
    )
    return response
