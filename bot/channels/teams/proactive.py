"""A CloudAdapter whose proactive sends reuse their clients.

For every ``continue_conversation`` the SDK builds a new connector factory, connector client
(credentials, msrest pipeline, configuration) and user token client; at a few hundred
proactive messages a second that is most of the CPU the outbox spends on Teams. Here they are
built once per bot app id, service URL and audience, and reused for as long as the event loop
they were built on runs (their HTTP sessions belong to it). Inbound turns are untouched: they
carry their own caller's claims and go through the SDK as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

ClientKey = tuple[str, str, str]
"""(bot app id, service URL, audience)."""


class ReusingCloudAdapter(CloudAdapter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connectors: dict[ClientKey, tuple[Any, Any]] = {}
        self._token_clients: dict[str, Any] = {}

    async def process_proactive(
        self,
        claims_identity: ClaimsIdentity,
        continuation_activity: Activity,
        audience: str | None,
        logic: Callable[[TurnContext], Awaitable[Any]],
    ) -> None:
        """As the SDK's, with the connector factory, connector client and user token client
        taken from the cache (built on first use)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # clients built on another loop hold its HTTP sessions
            self._loop, self._connectors, self._token_clients = loop, {}, {}
        app_id = str(claims_identity.claims.get(AuthenticationConstants.APP_ID_CLAIM) or "")
        key = (app_id, str(continuation_activity.service_url), audience or "")
        auth = self.bot_framework_authentication
        if key not in self._connectors:
            factory = auth.create_connector_factory(claims_identity)
            client = await factory.create(continuation_activity.service_url, audience)
            self._connectors[key] = (factory, client)
        factory, client = self._connectors[key]
        if app_id not in self._token_clients:
            self._token_clients[app_id] = await auth.create_user_token_client(claims_identity)
        context = self._create_turn_context(
            continuation_activity,
            claims_identity,
            audience,
            client,
            self._token_clients[app_id],
            logic,
            factory,
        )
        await self.run_pipeline(context, logic)
