"""Slack's ``/slack/events`` on the shared aiohttp server: Bolt is synchronous, so each request
is dispatched on a worker thread and the event loop never blocks (Bolt's own adapters are this
size too)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from slack_bolt import App
from slack_bolt.request import BoltRequest


def events_handler(bolt: App) -> Any:
    async def handle(request: web.Request) -> web.Response:
        bolt_request = BoltRequest(
            body=await request.text(), query=request.query_string, headers=dict(request.headers)
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(None, bolt.dispatch, bolt_request)
        headers = response.first_headers_without_set_cookie()
        content_type = headers.pop("content-type", "text/plain").split(";")[0]
        return web.Response(
            status=response.status, body=response.body, headers=headers, content_type=content_type
        )

    return handle
