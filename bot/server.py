"""The one HTTP server of ``regie serve``: ``GET /healthz`` and each enabled channel's endpoint
(Slack's ``/slack/events``). aiohttp, because the Teams adapter needs it too; the Slack app is
synchronous Bolt, dispatched on a worker thread so the event loop never blocks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt import App
from slack_bolt.request import BoltRequest

log = logging.getLogger(__name__)


def slack_handler(bolt: App) -> Any:
    async def handle(request: web.Request) -> web.Response:
        bolt_request = BoltRequest(
            body=await request.text(), query=request.query_string, headers=dict(request.headers)
        )
        response = await asyncio.get_running_loop().run_in_executor(
            None, bolt.dispatch, bolt_request
        )
        headers = response.first_headers_without_set_cookie()
        content_type = headers.pop("content-type", "text/plain").split(";")[0]
        return web.Response(
            status=response.status, body=response.body, headers=headers, content_type=content_type
        )

    return handle


def build_web_app(*, channels: dict[str, bool], slack: App | None = None) -> web.Application:
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": channels})

    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app.router.add_post("/slack/events", slack_handler(slack))
    return app
