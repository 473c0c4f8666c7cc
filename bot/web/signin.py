"""Signing in with a one-time link from chat, and the pages around it.

``GET /app/sign-in/{token}``: a page with one "Sign in" button (``bot/web/confirm.py``); opening
the link uses nothing, so a scanner that opens it first leaves it working. ``POST`` to the same
address (the button) uses the link (10 minutes, once, for the person it was made for), starts a
new session and goes on to ``next`` (a path inside ``/app/`` only) or the home page. A used,
expired or unknown link gets a friendly page (in its owner's language when the link was real)
saying how to get a new one. ``GET /app/sign-in`` says how to sign in.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.confirm import confirm_page, page
from bot.web.sessions import redirect, signed_in, start_session
from bot.web.urls import HOME
from storage import links
from storage.models import LinkPurpose, Person


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """Opening the link: the "Sign in" button (or the page saying it no longer works)."""
    return await confirm_page(request, [LinkPurpose.SIGN_IN], gone="link")


async def sign_in_link(request: web.Request) -> web.StreamResponse:
    """The button: the link is used and a session starts."""
    token = request.match_info["token"]
    now = context.now(request)

    def work() -> tuple[Person | None, str]:
        with Session(context.engine(request), expire_on_commit=False) as db:
            used = links.redeem(db, token, [LinkPurpose.SIGN_IN], now=now, detail={"via": "web"})
            person = db.get(Person, used.person_id) if used is not None else None
            if person is not None:
                db.commit()
                return person, person.language
            db.rollback()
            owner = db.get(Person, links.owner_of(db, token) or 0)
            return None, owner.language if owner else context.settings(request).language

    person, language = await context.in_thread(work)
    if person is None:
        return page(request, "sign_in.html", {"problem": "link"}, language, status=410)
    return await start_session(request, person, next_path=request.query.get("next"))


async def how_to_sign_in(request: web.Request) -> web.StreamResponse:
    if context.person(request) is not None and "signed_out" not in request.query:
        return redirect(HOME)
    problem = "signed_out" if "signed_out" in request.query else "signed_out_visit"
    return page(request, "sign_in.html", {"problem": problem}, context.language(request))


async def to_home(_request: web.Request) -> web.StreamResponse:
    return redirect(HOME)


@signed_in
async def home(request: web.Request) -> web.StreamResponse:
    """A minimal signed-in home (the pages in ``bot/web/pages/`` replace it)."""
    return aiohttp_jinja2.render_template("home.html", request, {})
