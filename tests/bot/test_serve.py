"""``regie serve`` as an operator starts it: a real process, its HTTP port, its log lines."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.bot.slack_fake import FakeSlack
from tests.bot.slack_harness import SIGNING_SECRET, SlackClient
from tests.bot.sync_helpers import responds, wait_until

REGIE = str(Path(sys.executable).parent / "regie")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(database_url: str, extra: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``regie init`` then ``regie serve`` on ``database_url``, as an operator runs them."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    env |= {"REGIE_DATABASE_URL": database_url, "REGIE_PORT": str(port)} | extra
    subprocess.run([REGIE, "init"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [REGIE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    if wait_until(lambda: responds(f"{url}/healthz"), timeout=60):
        return process, url
    process.kill()
    raise AssertionError(process.communicate()[0])


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    return process.communicate(timeout=30)[0]


def test_without_credentials_slack_is_off_with_one_clear_line(db_url: str) -> None:
    process, url = start(db_url, {})
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        assert json.loads(response.read()) == {
            "status": "ok",
            "channels": {"slack": False, "teams": False},
        }
    output = stop(process)
    assert output.count("Slack channel off") == 1
    assert "Traceback" not in output


def test_serve_answers_a_signed_slack_dm(db_url: str) -> None:
    """On SQLite and on PostgreSQL (where every turn once went unanswered: issue 12)."""
    with FakeSlack(
        users={
            "U1": {
                "id": "U1",
                "name": "kim",
                "tz": "Europe/Amsterdam",
                "profile": {"email": "kim@example.com", "real_name": "Kim"},
            }
        }
    ) as fake:
        process, url = start(
            db_url,
            {
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "REGIE_SLACK_API_URL": fake.url,
            },
        )
        try:
            slack = SlackClient(url, fake)
            assert slack.dm("U1", "hello").status == 200
            assert "Regie" in slack.next_message(timeout=20)["text"]
        finally:
            output = stop(process)
    assert "Traceback" not in output


def test_serve_answers_teams_activities_without_authentication_loudly(db_url: str) -> None:
    from tests.bot.teams_fake import FakeConnector
    from tests.bot.teams_harness import TeamsClient, card_of, card_text

    with FakeConnector() as connector:
        process, url = start(db_url, {"REGIE_TEAMS_ALLOW_UNAUTHENTICATED": "true"})
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                assert json.loads(response.read())["channels"] == {"slack": False, "teams": True}
            teams = TeamsClient(url, connector)
            assert teams.say("hello") in (200, 201)
            assert "Regie" in card_text(card_of(teams.next_sent()))
        finally:
            output = stop(process)
    assert "TEAMS WITHOUT AUTHENTICATION" in output
    assert "Traceback" not in output


def test_teams_package_command(tmp_path) -> None:
    import zipfile

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    out = tmp_path / "regie-teams.zip"
    ok = subprocess.run(
        [
            REGIE,
            "teams",
            "package",
            "--app-id",
            "00000000-0000-4000-8000-000000000001",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert sorted(zipfile.ZipFile(out).namelist()) == [
        "color.png",
        "manifest.json",
        "nl.json",
        "outline.png",
    ]
    bad = subprocess.run(
        [REGIE, "teams", "package", "--app-id", "not-a-guid", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "GUID" in bad.stderr


def test_a_second_serve_on_the_same_sqlite_file_does_not_schedule(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'regie.db'}"
    first, _ = start(database, {})
    try:
        second, _ = start(database, {})
        second_output = stop(second)
    finally:
        first_output = stop(first)
    assert "already runs the scheduler" in second_output
    assert "already runs the scheduler" not in first_output
