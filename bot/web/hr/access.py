"""Who may open the HR and admin pages, how they are rendered, and how their changes are
audited.

- :func:`hr_page`: people with the hr role (and administrators); :func:`admin_page`:
  administrators only. Signed out: the "how to sign in" page (``sessions.signed_in``); signed
  in without the role: 403 and a page saying so (nothing is read).
- :func:`render`: a page under ``templates/hr/``, never cached; ``scripts=True`` allows our own
  vendored scripts (``script-src 'self'``) on that one response, every other page stays
  script-free; ``images=True`` (a campaign's preview) also the campaign's https images.
- :func:`audited`: the audit entry of a change made here, with its actor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.security import CSP
from bot.web.sessions import Handler, signed_in
from storage.models import AuditEntry, Person, Role

HR_ROLES = frozenset({Role.HR, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})
SCRIPT_CSP = f"{CSP}; script-src 'self'; connect-src 'self'"
"""The policy of a page that runs our own scripts (the card preview, live status): files
served from ``/app/static/`` only, never inline, and requests only back to us."""
PREVIEW_CSP = SCRIPT_CSP.replace("img-src 'self' data:", "img-src 'self' data: https:")
"""The policy of a page with a campaign's preview: its messages' own images too (https, where
Slack and Teams load them from; the referrer policy sends them nothing about us)."""


def _only(roles: frozenset[Role]) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            me = context.person(request)
            assert me is not None  # signed_in ran first
            if me.role not in roles:
                return render(request, "hr/forbidden.html", {}, status=403)
            return await handler(request)

        return signed_in(guarded)

    return wrap


hr_page = _only(HR_ROLES)
admin_page = _only(ADMIN_ROLES)


def me(request: web.Request) -> Person:
    person = context.person(request)
    assert person is not None and person.id is not None
    return person


def render(
    request: web.Request,
    template: str,
    values: dict[str, Any],
    *,
    status: int = 200,
    scripts: bool = False,
    images: bool = False,
) -> web.Response:
    person = context.person(request)
    shown = {"is_admin": person is not None and person.role == Role.ADMIN} | values
    response = aiohttp_jinja2.render_template(template, request, shown, status=status)
    response.headers["Cache-Control"] = "no-store"
    if scripts:
        response.headers["Content-Security-Policy"] = PREVIEW_CSP if images else SCRIPT_CSP
    return response


def audited(
    db: Session,
    actor: Person,
    action: str,
    *,
    at: datetime,
    subject_id: int | None = None,
    **detail: Any,
) -> None:
    """One audit entry for a change made on these pages: who (the signed-in person), what,
    about whom; ``detail`` never holds anyone's free text."""
    db.add(
        AuditEntry(
            at=at,
            actor_id=actor.id,
            subject_id=subject_id,
            action=action,
            detail={"where": "web"} | detail,
        )
    )


def session(request: web.Request) -> Session:
    return Session(context.engine(request), expire_on_commit=False)
