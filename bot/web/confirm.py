"""What opening a one-time link shows: a page with one button, in the owner's language.

Mail and chat security scanners (Microsoft Safe Links, for one) open links before the person
does. A link that works once (``storage/links.py`` ``Rules.once``) is therefore never used by
opening it (GET): :func:`confirm_page` only looks (``links.peek``) and shows a button that
POSTs to the same address, and that POST uses it (``bot/web/signin.py``,
``bot/web/download.py``). The POST needs no session: the token is the credential
(``bot/web/security.py`` says why the CSRF check lets exactly these POSTs through). A link
that can no longer be used gets the friendly "this link no longer works" page instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import aiohttp_jinja2
from aiohttp import web
from sqlmodel import Session

from bot.web import context
from bot.web.templating import Words
from storage import links
from storage.models import LinkPurpose, Person

BUTTONS = {
    LinkPurpose.SIGN_IN: "sign_in_button",
    LinkPurpose.DOWNLOAD_JSON: "download_button",
    LinkPurpose.DOWNLOAD_PAGE: "download_button",
}
"""The button each purpose's page shows (``web.confirm.<key>``)."""


async def confirm_page(
    request: web.Request, purposes: Collection[LinkPurpose], *, gone: str
) -> web.Response:
    """The page for ``request``'s ``{token}``: its button when the link can be used now, else
    the ``sign_in.html`` page ``gone`` (410). Nothing is used, written or audited."""
    token = request.match_info["token"]
    engine, now = context.engine(request), context.now(request)
    default = context.settings(request).language

    def look() -> tuple[links.Redeemed | None, str]:
        with Session(engine) as db:
            found = links.peek(db, token, purposes, now=now)
            owner_id = found.person_id if found is not None else links.owner_of(db, token)
            owner = db.get(Person, owner_id or 0)
            return found, owner.language if owner is not None else default

    found, language = await context.in_thread(look)
    if found is None:
        return page(request, "sign_in.html", {"problem": gone}, language, status=410)
    values = {"what": str(found.purpose), "button": BUTTONS[found.purpose]}
    return page(request, "confirm.html", values | {"action": request.path_qs}, language)


def page(
    request: web.Request,
    template: str,
    values: Mapping[str, object],
    language: str,
    status: int = 200,
) -> web.Response:
    """A page for someone who may not be signed in, in ``language``; never cached."""
    words = Words(context.content(request), language, context.settings(request).timezone)
    response = aiohttp_jinja2.render_template(
        template, request, {**values, **words.context()}, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response
