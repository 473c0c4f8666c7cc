"""Fixtures of the bot tests: the ``regie`` command (in this process, or as a real process),
and Slack and Teams worlds behind a real web server with local fakes of the platforms."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.channels.slack.app import SlackChannel
from bot.channels.slack.http import events_handler
from bot.channels.teams.adapter import build_teams, messages_handler
from bot.channels.teams.bot import TeamsBot
from bot.cli import app
from bot.config import Settings, get_settings
from bot.server import build_web_app
from bot.wiring import build_runtime
from storage.db import dispose_engines
from tests.bot.outbox_helpers import REGIE
from tests.bot.slack_fake import FakeSlack
from tests.bot.slack_harness import SIGNING_SECRET, SlackClient, WebServer
from tests.bot.teams_fake import FakeConnector
from tests.bot.teams_harness import TeamsClient

CONFIGURATION = ("REGIE_", "SLACK_", "MICROSOFT_", "OPENAI_")
"""Prefixes of the variables Regie reads: none leaks from the environment pytest runs in."""


@dataclass(frozen=True)
class Ran:
    """One ``regie`` invocation: what ``subprocess.CompletedProcess`` tells, for either kind."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Run(Protocol):
    def __call__(
        self, *args: str, stdin: str = "", extra_env: Mapping[str, str] | None = None
    ) -> Ran: ...


class _ToStderr(logging.Handler):
    """Log records to whatever ``sys.stderr`` is when they are emitted (the runner's), with the
    format ``settings_and_logging`` gives a real process."""

    def __init__(self, level: str) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def in_process(db_url: str, cwd: Path) -> Run:
    """``regie`` run in this process by Typer's ``CliRunner``, as a person runs it: the same
    arguments, stdin, environment (nothing of Regie's own from pytest's), working directory and
    logging to stderr. Settings and database engines are cached per process, so both are
    dropped after each invocation, as if the process had ended."""
    unset: dict[str, str | None] = {
        key: None for key in os.environ if key.startswith(CONFIGURATION)
    }

    def regie(*args: str, stdin: str = "", extra_env: Mapping[str, str] | None = None) -> Ran:
        env = unset | {"REGIE_DATABASE_URL": db_url} | dict(extra_env or {})
        root = logging.getLogger()
        level = root.level
        handler = _ToStderr(str(env.get("REGIE_LOG_LEVEL") or "WARNING").upper())
        root.addHandler(handler)  # and basicConfig, finding a handler, leaves the root alone
        root.setLevel(handler.level)
        get_settings.cache_clear()
        try:
            with contextlib.chdir(cwd):
                result = CliRunner().invoke(app, list(args), input=stdin, env=env)
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            get_settings.cache_clear()
            dispose_engines()
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))  # as Python would
        return Ran(tuple(args), result.exit_code, result.stdout, stderr)

    return regie


def as_process(db_url: str, cwd: Path) -> Run:
    """``regie`` as a real process: the installed console script, piped stdin and stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIGURATION)}
    env["REGIE_DATABASE_URL"] = db_url

    def regie(*args: str, stdin: str = "", extra_env: Mapping[str, str] | None = None) -> Ran:
        done = subprocess.run(
            [REGIE, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env | dict(extra_env or {}),
            timeout=120,
        )
        return Ran(tuple(args), done.returncode, done.stdout, done.stderr)

    return regie


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Run:
    """The ``regie`` command on a migrated database (SQLite and PostgreSQL), in this process;
    ``tmp_path`` is its working directory."""
    return in_process(db_url, tmp_path)


@pytest.fixture
def run_process(db_url: str, tmp_path: Path) -> Run:
    """``run`` as a real process, for the few tests that must prove one (exit codes, pipes,
    what a fresh interpreter imports)."""
    return as_process(db_url, tmp_path)


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
