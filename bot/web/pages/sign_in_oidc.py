"""The routes of OpenID Connect sign-in (``bot/web/oidc.py`` does the protocol):

- ``GET /app/oidc/{provider}``: off to the provider, with state, nonce and PKCE remembered in
  a short-lived cookie;
- ``GET /app/oidc/{provider}/callback``: back from it; the ID token checked, the person found
  the way the chat finds them, a new session started (``start_session``) and the sign-in
  audited on their own record. Anything wrong gets a friendly page and signs nobody in;
  someone Regie does not know is told so, and nothing is created.
"""

from __future__ import annotations

import logging
import weakref
from urllib.parse import quote, unquote

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.oidc import OidcClient, Pending, SignInFailed, match_person, providers
from bot.web.sessions import start_session
from bot.web.urls import safe_next
from storage.models import Person
from storage.privacy import Reader, record_reads

log = logging.getLogger(__name__)

_CLIENTS: weakref.WeakKeyDictionary[web.Application, dict[str, OidcClient]] = (
    weakref.WeakKeyDictionary()
)
"""Each application's clients (with their cached metadata and keys), made on first use."""
PENDING_COOKIE = "regie_oidc"
PREFIX = "/app/oidc/"


def _client(request: web.Request) -> OidcClient:
    name = request.match_info["provider"]
    clients = _CLIENTS.get(request.app)
    if clients is None:
        app_clock = request.config_dict[context.CLOCK]  # the web app's (injected) clock
        clients = {
            n: OidcClient(p, clock=lambda: app_clock().timestamp())
            for n, p in providers(context.settings(request)).items()
        }
        _CLIENTS[request.app] = clients
    client = clients.get(name)
    if client is None:
        raise web.HTTPNotFound()
    return client


def _callback_url(request: web.Request, provider: str) -> str:
    return f"{context.settings(request).base_url}{PREFIX}{provider}/callback"


async def start(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    name = client.provider.name
    try:
        url, pending = await client.authorization_url(
            _callback_url(request, name), locale=context.language(request)
        )
    except SignInFailed as failure:
        log.warning("OpenID sign-in with %s cannot start: %s", name, failure.reason)
        return _problem(request, "unavailable", status=503)
    response = web.HTTPSeeOther(url)
    response.set_cookie(
        PENDING_COOKIE,
        pending.cookie() + "|" + quote(safe_next(request.query.get("next")), safe=""),
        path=f"{PREFIX}{name}/",
        max_age=600,
        httponly=True,
        secure=context.settings(request).base_url.startswith("https://"),
        samesite="Lax",
    )
    response.headers["Cache-Control"] = "no-store"
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    name = client.provider.name
    saved, _, next_quoted = request.cookies.get(PENDING_COOKIE, "").partition("|")
    next_path = unquote(next_quoted)
    pending = Pending.from_cookie(saved)
    if pending is None or not pending.matches(name, request.query.get("state")):
        log.info("OpenID callback from %s refused: no sign-in of ours matches its state", name)
        return _problem(request, "expired", status=400)
    if "error" in request.query or not request.query.get("code"):
        log.info(
            "OpenID sign-in with %s ended at the provider: %s", name, request.query.get("error")
        )
        return _problem(request, "cancelled", status=400)
    try:
        claims = await client.finish(
            code=request.query["code"], pending=pending, redirect_uri=_callback_url(request, name)
        )
    except SignInFailed as failure:
        log.warning("OpenID sign-in with %s refused: %s", name, failure.reason)
        return _problem(request, "failed", status=400)
    now = context.now(request)

    def work() -> Person | None:
        with Session(context.engine(request), expire_on_commit=False) as db:
            person = match_person(db, client.provider, claims)
            if person is not None and person.id is not None:
                record_reads(
                    db,
                    reader=Reader.of(person),
                    subjects=[person.id],
                    at=now,
                    action="web_sign_in",
                    detail={"via": name},
                )
                db.commit()
            return person

    person = await context.in_thread(work)
    if person is None:
        log.info("OpenID sign-in with %s: nobody in Regie matches", name)
        return _problem(request, "unknown", status=403)
    response = await start_session(request, person, next_path=next_path or None)
    response.del_cookie(PENDING_COOKIE, path=f"{PREFIX}{name}/")
    return response


def _problem(request: web.Request, problem: str, *, status: int) -> web.Response:
    response = aiohttp_jinja2.render_template(
        "pages/oidc_problem.html", request, {"problem": problem}, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.del_cookie(PENDING_COOKIE, path=f"{PREFIX}{request.match_info['provider']}/")
    return response
