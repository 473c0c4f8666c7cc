"""The Slack Web API client, configured once: token, base URL (tests point it at a local fake)
and retries on HTTP 429 with Slack's Retry-After."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings


def web_client(settings: Settings) -> WebClient:
    assert settings.slack_bot_token is not None
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client
