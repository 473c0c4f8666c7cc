from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.channels.slack.app import SlackChannel
from bot.channels.slack.http import events_handler
from bot.channels.teams.adapter import build_teams, messages_handler
from bot.channels.teams.bot import TeamsBot
from bot.config import Settings
from bot.server import build_web_app
from bot.wiring import build_runtime
from tests.bot.outbox_helpers import REGIE
from tests.bot.slack_fake import FakeSlack
from tests.bot.slack_harness import SIGNING_SECRET, SlackClient, WebServer
from tests.bot.teams_fake import FakeConnector
from tests.bot.teams_harness import TeamsClient


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The ``regie`` command as a person runs it: a real process on a SQLite file in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_")}
    env["REGIE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'regie.db'}"

    def regie(
        *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [REGIE, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env | (extra_env or {}),
            timeout=120,
        )

    return regie


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
        web_app = build_web_app(
            channels={"slack": True}, routes={"/slack/events": events_handler(channel.app)}
        )
        server = WebServer(web_app).start()
        try:
            yield SlackWorld(fake, SlackClient(server.url, fake), channel, engine)
        finally:
            server.stop()


@dataclass
class TeamsWorld:
    connector: FakeConnector
    teams: TeamsClient
    bot: TeamsBot
    server: WebServer
    engine: Engine


@pytest.fixture
def teams_world(engine: Engine) -> Iterator[TeamsWorld]:
    with FakeConnector() as connector:
        settings = Settings(_env_file=None, teams_allow_unauthenticated=True)  # type: ignore[call-arg]
        bot = build_teams(build_runtime(settings, engine), engine, settings)
        web_app = build_web_app(
            channels={"teams": True}, routes={"/api/messages": messages_handler(bot)}
        )
        server = WebServer(web_app).start()
        try:
            yield TeamsWorld(connector, TeamsClient(server.url, connector), bot, server, engine)
        finally:
            server.stop()
