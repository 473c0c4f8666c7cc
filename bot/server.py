"""The one HTTP server of ``regie serve``: ``GET /healthz`` and each enabled channel's endpoint
(Slack's ``/slack/events``, Teams' ``/api/messages``). aiohttp, because the Bot Framework
adapter needs it; channels hand in their own handlers, so this module knows no platform SDK.

``/healthz`` answers 200 ``{"status": "ok", "channels": {...}}``, or 503
``{"status": "unhealthy", "reasons": [...], "channels": {...}}`` when the scheduler's last run
failed or the delivery worker is stuck (see ``bot.health``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.health import Health

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_web_app(
    *, channels: Mapping[str, bool], routes: Mapping[str, Handler], health: Health | None = None
) -> web.Application:
    """``routes``: POST path -> handler, for the channels that are on. ``health``: what the
    background work reports (none: only the web server itself is checked)."""
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        reasons = health.reasons() if health is not None else []
        if reasons:
            body = {"status": "unhealthy", "reasons": reasons, "channels": dict(channels)}
            return web.json_response(body, status=503)
        return web.json_response({"status": "ok", "channels": dict(channels)})

    app.router.add_get("/healthz", healthz)
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    return app
