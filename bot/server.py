"""The one HTTP server of ``regie serve``: ``GET /healthz`` and each enabled channel's endpoint
(Slack's ``/slack/events``, Teams' ``/api/messages``). aiohttp, because the Bot Framework
adapter needs it; channels hand in their own handlers, so this module knows no platform SDK."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_web_app(
    *, channels: Mapping[str, bool], routes: Mapping[str, Handler]
) -> web.Application:
    """``routes``: POST path -> handler, for the channels that are on."""
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": dict(channels)})

    app.router.add_get("/healthz", healthz)
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    return app
