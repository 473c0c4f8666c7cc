"""What protects every response and every form of the web app.

- :func:`headers_middleware`: a strict Content-Security-Policy (nothing from anywhere else,
  no inline script or style, no framing, forms only to ourselves), ``nosniff`` and no
  referrer, on every response of ``regie serve`` that does not set its own policy.
- :func:`csrf_middleware`: every POST, PUT, PATCH and DELETE under ``/app/`` carries the
  session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), compared in
  constant time; without it: 403 and a page saying so. Signed out, such a request goes to the
  sign-in page (nothing can be done as nobody).

  One explicit exception, :data:`TOKEN_POSTS`: the button on the page a one-time sign-in link
  opens (``bot/web/confirm.py``) POSTs to the link's own address with no session yet. There the
  token in the address is the credential: a cross-site page cannot know someone's token, and
  the handler does nothing but use the link (``storage.links.redeem``, one atomic statement),
  so without a valid, unexpired token nothing changes and the answer is "this link no longer
  works". What a forged POST could still do with the forger's *own* link (sign the victim in
  as the forger) is refused when the browser says the form came from another site
  (``Sec-Fetch-Site``; else an ``Origin`` naming another host). The download button
  (``POST /download/{token}``) is outside ``/app/`` and needs no exception: a forged press
  there could only hand the forger's own file to someone else's browser.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from bot.web import context
from bot.web.sessions import SESSION, SIGN_IN_HELP, Handler, in_web_app, redirect

CSP = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_POSTS = frozenset({"/app/sign-in/{token}"})
"""Routes (as registered) whose POST is authenticated by the one-time link in the address,
not by a session: no CSRF token, but only from a page of ours (:func:`_from_elsewhere`)."""
BROWSER_SAYS_OURS = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of a form on one of our pages, or of the person's own action."""


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:  # a redirect or error page gets the headers too
        _secure(error)
        raise
    _secure(response)
    return response


def _secure(response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in UNSAFE_METHODS or not in_web_app(request):
        return await handler(request)
    if request.method == "POST" and _route(request) in TOKEN_POSTS:
        if _from_elsewhere(request):
            return _refused(request)
        return await handler(request)
    session = request.get(SESSION)
    if session is None:
        return redirect(SIGN_IN_HELP)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()  # kept by aiohttp: the handler reads it again
        field = form.get(CSRF_FIELD, "")
        sent = field if isinstance(field, str) else ""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_secret.encode()):
        return _refused(request)
    return await handler(request)


def _refused(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("error.html", request, {"problem": "csrf"}, status=403)


def _route(request: web.Request) -> str | None:
    """The path pattern the request was routed to (``/app/sign-in/{token}``), if any."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


def _from_elsewhere(request: web.Request) -> bool:
    """The browser says this request comes from a page of another site. Our pages send no
    referrer, so a browser's ``Origin`` on their forms is ``null``: ``Sec-Fetch-Site`` (every
    current browser) decides; without it, an ``Origin`` naming another host does."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in BROWSER_SAYS_OURS
    origin = request.headers.get("Origin", "null")
    if origin == "null":
        return False
    ours = {request.host, urlsplit(context.settings(request).base_url).netloc}
    return urlsplit(origin).netloc not in ours
