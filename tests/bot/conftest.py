from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from bot.channels.slack.app import SlackChannel
from bot.config import Settings
from bot.server import build_web_app
from bot.wiring import build_runtime
from tests.bot.slack_fake import FakeSlack
from tests.bot.slack_harness import SIGNING_SECRET, SlackClient, WebServer


def slack_settings(fake: FakeSlack, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        slack_api_url=fake.url,
        **extra,
    )


@dataclass
class SlackWorld:
    fake: FakeSlack
    slack: SlackClient
    channel: SlackChannel
    engine: Engine


@pytest.fixture
def slack_world(engine: Engine) -> Iterator[SlackWorld]:
    with FakeSlack() as fake:
        settings = slack_settings(fake)
        channel = SlackChannel(build_runtime(settings, engine), engine, settings)
        server = WebServer(build_web_app(channels={"slack": True}, slack=channel.app)).start()
        try:
            yield SlackWorld(fake, SlackClient(server.url, fake), channel, engine)
        finally:
            server.stop()
