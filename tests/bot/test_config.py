"""Settings are checked at start-up: a bad value is one line naming the variable, exit code 2,
and ``regie serve`` does not start. In-process (Typer's runner) but once as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings, SettingsError, get_settings, load_settings, settings_or_exit
from storage.db import make_engine
from storage.migrate import upgrade
from tests.bot.outbox_helpers import REGIE

OURS = ("REGIE_", "SLACK_", "MICROSOFT_", "OPENAI_")

BAD = [
    # (variable, value, the line regie prints)
    ("REGIE_NUDGE_TIME", "9h30", "REGIE_NUDGE_TIME=9h30: expected a time like 09:30"),
    ("REGIE_NUDGE_TIME", "25:00", "REGIE_NUDGE_TIME=25:00: expected a time like 09:30"),
    ("REGIE_DIGEST_TIME", "9.00", "REGIE_DIGEST_TIME=9.00: expected a time like 09:00"),
    (
        "REGIE_NUDGE_WEEKDAY",
        "7",
        "REGIE_NUDGE_WEEKDAY=7: expected a weekday 0-6 (0 = Monday) or a day name like monday, "
        "or empty",
    ),
    (
        "REGIE_DIGEST_WEEKDAY",
        "maandag",
        "REGIE_DIGEST_WEEKDAY=maandag: expected a weekday 0-6 (0 = Monday) or a day name like "
        "monday",
    ),
    (
        "REGIE_DIGEST_CADENCE",
        "daily",
        "REGIE_DIGEST_CADENCE=daily: expected weekly, biweekly or monthly",
    ),
    (
        "REGIE_TIMEZONE",
        "Europe/Amsterdan",
        "REGIE_TIMEZONE=Europe/Amsterdan: expected an IANA time zone like Europe/Amsterdam",
    ),
    (
        "REGIE_HOLIDAYS_COUNTRY",
        "XX",
        "REGIE_HOLIDAYS_COUNTRY=XX: expected a country code the holidays package knows, "
        "like NL, BE or DE",
    ),
    (
        "REGIE_DATABASE_URL",
        "regie.db",
        "REGIE_DATABASE_URL=regie.db: expected a database URL like sqlite:///regie.db or "
        "postgresql://user:password@host/db",
    ),
    (
        "REGIE_DATABASE_URL",
        "mysql://kim:hunter2@db/regie",
        "REGIE_DATABASE_URL=mysql://kim:***@db/regie: expected a database URL like "
        "sqlite:///regie.db or postgresql://user:password@host/db; mysql is not supported",
    ),
    (
        "REGIE_SLACK_API_URL",
        "slack.com/api",
        "REGIE_SLACK_API_URL=slack.com/api: expected an http(s) URL like https://slack.com/api/",
    ),
    (
        "OPENAI_BASE_URL",
        "ftp://models.example.com",
        "OPENAI_BASE_URL=ftp://models.example.com: expected an http(s) URL like "
        "http://localhost:8000/v1",
    ),
    (
        "REGIE_MIN_GROUP_SIZE",
        "2",
        "REGIE_MIN_GROUP_SIZE=2: expected a whole number of at least 3",
    ),
    (
        "REGIE_SLACK_SEND_RATE",
        "0",
        "REGIE_SLACK_SEND_RATE=0: expected a number of messages per second above 0",
    ),
    ("REGIE_PORT", "80800", "REGIE_PORT=80800: expected a port number 1-65535"),
    (
        "REGIE_LOG_LEVEL",
        "verbose",
        "REGIE_LOG_LEVEL=verbose: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    ("REGIE_OPEN_ENROLMENT", "maybe", "REGIE_OPEN_ENROLMENT=maybe: expected true or false"),
    (
        "REGIE_SQLITE_SYNCHRONOUS",
        "off",
        "REGIE_SQLITE_SYNCHRONOUS=off: expected full or normal",
    ),
    (
        "MICROSOFT_APP_TYPE",
        "Single",
        "MICROSOFT_APP_TYPE=Single: expected MultiTenant, SingleTenant or UserAssignedMSI",
    ),
]


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No setting from the machine running the tests, no ``.env``, no cached settings."""
    for name in os.environ:
        if name.startswith(OURS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_process(tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``regie serve`` through the CLI entry. The database is left uninitialised, so a serve
    that got past the settings would stop with its own, different, message (never hang)."""
    env = {"REGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'not-initialised.db'}"} | env
    result = CliRunner().invoke(app, ["serve"], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("variable", "value", "line"), BAD, ids=[f"{v}={x}" for v, x, _ in BAD])
def test_each_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, line: str
) -> None:
    code, stdout, stderr = serve_in_process(tmp_path, {variable: value})
    assert (code, stderr) == (2, line + "\n")
    assert "serving" not in stdout


def test_every_bad_variable_gets_its_line_and_no_secret_is_shown(tmp_path: Path) -> None:
    code, _, stderr = serve_in_process(
        tmp_path,
        {
            "REGIE_NUDGE_TIME": "9h30",
            "REGIE_DIGEST_CADENCE": "fortnightly",
            "REGIE_DATABASE_URL": "postgresql+psycopg2://kim:hunter2@db/regie",
            "SLACK_BOT_TOKEN": "xoxb-secret-token",
        },
    )
    assert code == 2
    assert stderr.splitlines() == [
        "REGIE_DATABASE_URL=postgresql+psycopg2://kim:***@db/regie: expected a database URL "
        "like sqlite:///regie.db or postgresql://user:password@host/db; "
        "the psycopg2 driver is not supported",
        "REGIE_NUDGE_TIME=9h30: expected a time like 09:30",
        "REGIE_DIGEST_CADENCE=fortnightly: expected weekly, biweekly or monthly",
    ]
    assert "hunter2" not in stderr and "Traceback" not in stderr


def test_a_bad_setting_in_dot_env_is_named_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("REGIE_TIMEZONE=CET+1\n")
    code, _, stderr = serve_in_process(tmp_path, {})
    assert (code, stderr) == (
        2,
        "REGIE_TIMEZONE=CET+1: expected an IANA time zone like Europe/Amsterdam\n",
    )


def test_a_single_tenant_bot_needs_its_tenant(tmp_path: Path) -> None:
    code, _, stderr = serve_in_process(
        tmp_path, {"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_TYPE": "SingleTenant"}
    )
    assert (code, stderr) == (
        2,
        "MICROSOFT_APP_TYPE=SingleTenant: a SingleTenant bot needs MICROSOFT_APP_TENANT_ID "
        "as well\n",
    )


def test_good_settings_reach_the_command(tmp_path: Path) -> None:
    """Past the settings, serve stops at the uninitialised database: its own message."""
    code, _, stderr = serve_in_process(tmp_path, {"REGIE_NUDGE_TIME": "07:45"})
    assert code == 2
    assert "regie init" in stderr and "REGIE_" not in stderr


def test_friendly_spellings_are_read_as_meant(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "REGIE_NUDGE_TIME": " 9:30 ",
        "REGIE_NUDGE_WEEKDAY": "Fri",
        "REGIE_DIGEST_WEEKDAY": "6",
        "REGIE_DIGEST_CADENCE": "Biweekly",
        "REGIE_HOLIDAYS_COUNTRY": "be",
        "REGIE_LOG_LEVEL": "info",
        "REGIE_LANGUAGE": "NL",
        "REGIE_DATABASE_URL": "postgres://kim@db/regie",
        "REGIE_SLACK_API_URL": "http://127.0.0.1:9/api",
        "OPENAI_BASE_URL": "",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    settings = settings_or_exit()
    assert (settings.nudge_time, settings.nudge_weekday, settings.digest_weekday) == ("09:30", 4, 6)
    assert (settings.digest_cadence, settings.holidays_country) == ("biweekly", "BE")
    assert (settings.log_level, settings.language) == ("INFO", "nl")
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.openai_base_url is None
    assert settings.slack_bot_token is None and not settings.slack_enabled  # empty is unset


def test_an_empty_weekday_means_any_working_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIE_NUDGE_WEEKDAY", "")
    assert load_settings().nudge_weekday is None


def test_the_defaults_are_valid() -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.nudge_time, defaults.digest_time, defaults.port) == ("09:30", "09:00", 3000)
    assert defaults.sqlite_synchronous == "full"  # every turn on disk before the reply


def test_sqlite_synchronous_normal_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIE_SQLITE_SYNCHRONOUS", " Normal ")
    assert load_settings().sqlite_synchronous == "normal"


def test_a_failure_is_not_cached_and_exits_with_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIE_NUDGE_TIME", "9h30")
    with pytest.raises(SettingsError) as error:
        get_settings()
    assert error.value.lines == ["REGIE_NUDGE_TIME=9h30: expected a time like 09:30"]
    with pytest.raises(SystemExit) as exit_:
        settings_or_exit()
    assert exit_.value.code == 2
    monkeypatch.setenv("REGIE_NUDGE_TIME", "10:00")
    assert get_settings().nudge_time == "10:00"


def test_regie_serve_refuses_to_start_as_a_real_process(tmp_path: Path) -> None:
    """The database is ready, so only the bad setting stands between serve and serving."""
    url = f"sqlite:///{tmp_path / 'regie.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env |= {"REGIE_DATABASE_URL": url, "REGIE_PORT": str(free_port()), "REGIE_NUDGE_TIME": "9h30"}
    try:
        result = subprocess.run(
            [REGIE, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"regie serve started: {expired.output!r}") from None
    assert result.returncode == 2
    assert result.stderr == "REGIE_NUDGE_TIME=9h30: expected a time like 09:30\n"
    assert "serving" not in result.stdout
