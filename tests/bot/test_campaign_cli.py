"""``regie campaign`` as an HR programme lead runs it: validate, preview as a Dutch and an
English employee, launch (dry run, confirm, twice), follow, pause, resume, cancel. The clock
stands a week before the example campaign's day 0, so the dates in it never run out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from tests.bot.campaign_files import BEFORE_DAY_0, ROOT
from tests.bot.conftest import Run
from tests.schema_validators import card_errors

pytestmark = pytest.mark.usefixtures("before_day_0")


def test_validate_reports_every_problem_with_line_and_path(run: Run, tmp_path: Path) -> None:
    good = run("campaign", "validate", str(ROOT / "campaigns" / "growth-week.yaml"))
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout and "10 steps, 6 workshops" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Bad Id\nname: x\nowner: hr\nstart: soon\nsteps: []\n", encoding="utf-8")
    result = run("campaign", "validate", str(bad))
    assert result.returncode == 1
    assert "4 problem(s)" in result.stderr
    for where in (":1  id:", ":3  owner:", ":4  start:", ":5  steps:"):
        assert where in result.stderr, result.stderr


def test_preview_as_a_dutch_and_an_english_employee(run: Run, demo: Path) -> None:
    dutch = run("campaign", "preview", str(demo), "--as", "daan.devries@example.com")
    assert dutch.returncode == 0, dutch.stderr
    assert "── step kickoff: day 0, Mon 07 Dec 2026 09:30 CET" in dutch.stdout
    assert "Goedemorgen Daan!" in dutch.stdout and "[a] Klinkt goed" in dutch.stdout
    english = run("campaign", "preview", str(demo), "--as", "alex@example.com")
    assert "Good morning Alex!" in english.stdout and "[a] Sounds good" in english.stdout
    assert "only if not responded to kickoff" in english.stdout
    teams = run("campaign", "preview", str(demo), "--as", "alex@example.com", "--channel", "teams")
    assert teams.returncode == 0, teams.stderr
    payloads = _json_blocks(teams.stdout)
    assert len(payloads) == 10
    for activities in payloads:
        for activity in activities:
            assert activity["type"] == "message"
            for attachment in activity.get("attachments", []):  # type: ignore[attr-defined]
                assert card_errors(attachment["content"]) == []
    slack = run("campaign", "preview", str(demo), "--as", "alex@example.com", "--channel", "slack")
    first = _json_blocks(slack.stdout)[0][0]
    assert first["blocks"][0]["type"] == "image"
    assert any(
        e.get("url", "").startswith("https://intranet.example.com")
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )


def _json_blocks(output: str) -> list[list[dict[str, object]]]:
    """The JSON payloads printed after each step heading."""
    found = []
    for part in output.split("\n── step ")[1:]:
        found.append(json.loads(part.split("\n", 1)[1]))
    return found


def test_launch_dry_run_confirm_and_twice(run: Run, demo: Path) -> None:
    dry = run("campaign", "launch", str(demo), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Audience of growth-week-2026: 15 people" in dry.stdout
    assert "Dry run: nothing was changed." in dry.stdout
    assert "No campaign" in run("campaign", "status", "growth-week-2026").stderr
    declined = run("campaign", "launch", str(demo), stdin="n\n")
    assert declined.returncode == 1 and "Not launched." in declined.stdout
    launched = run("campaign", "launch", str(demo), "--yes")
    assert launched.returncode == 0, launched.stderr
    assert "Launched growth-week-2026" in launched.stdout
    again = run("campaign", "launch", str(demo), "--yes")
    assert "the file has not changed: nothing to do" in again.stdout
    due = run("run-due", "--now", "2026-12-07T08:31:00+00:00")
    assert due.returncode == 0, due.stderr
    status = run("campaign", "status", "growth-week-2026", "--no-watch")
    assert "People targeted 15" in status.stdout
    assert "│ kickoff       │   0 │     15 │" in status.stdout
    edited = demo.read_text(encoding="utf-8").replace("Growth Week starts today", "It starts")
    demo.write_text(edited, encoding="utf-8")
    edit = run("campaign", "launch", str(demo), "--yes")
    assert "Steps changed: kickoff." in edit.stdout
    assert "Changes applied: 15 waiting message(s) updated" in edit.stdout


def test_status_follows_until_nothing_more_can_be_sent_and_says_why(
    run: Run, demo: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a terminal, ``status`` follows delivery with a live bar. Dead and held messages, and
    those left for ``regie chat``, never go out by waiting: it stops once the rest are out, and
    says why."""
    from bot.commands import campaign_status
    from storage.models import Outbound, OutboxState

    assert run("campaign", "launch", str(demo), "--yes").returncode == 0
    assert "30 new" in run("run-due", "--now", "2026-12-07T07:00:00+00:00").stdout
    kickoff = col(Outbound.idempotency_key).contains(":kickoff:")
    a_minute_ago = BEFORE_DAY_0 - timedelta(minutes=1)  # the process starts at BEFORE_DAY_0
    with engine.begin() as db:
        db.execute(update(Outbound).where(kickoff).values(not_before=a_minute_ago))
        ids = list(db.execute(select(Outbound.id).where(kickoff).order_by(Outbound.id)).scalars())
    assert len(ids) == 15
    polls: list[int] = []

    def the_worker_meanwhile() -> None:
        """Between the first and the second look: 12 sent, one dead, one held, one left for
        someone only the console reaches."""
        polls.append(1)
        assert len(polls) == 1, "still following when nothing more could be sent"
        with engine.begin() as db:
            for chosen, values in (
                (ids[3:], {"state": OutboxState.SENT}),
                (ids[:1], {"state": OutboxState.DEAD}),
                (ids[1:2], {"state": OutboxState.HELD}),
                (ids[2:3], {"channel": "console", "not_before": a_minute_ago + timedelta(hours=6)}),
            ):
                db.execute(update(Outbound).where(col(Outbound.id).in_(chosen)).values(**values))

    monkeypatch.setattr(campaign_status, "_pause", the_worker_meanwhile)
    status = run("campaign", "status", "growth-week-2026", extra_env={"TTY_COMPATIBLE": "1"})
    assert status.returncode == 0, status.stderr
    assert polls == [1]
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", status.stdout)  # a terminal's: colours, bar
    assert "Nothing more to send now: 12 of 15 due message(s) sent." in shown
    assert "1 failed for good: regie outbox status says why" in shown
    assert "1 held while the campaign is paused: regie campaign resume growth-week-2026" in shown
    assert (
        "1 left for people Regie cannot reach in Slack or Teams: they see them in regie chat"
        in shown
    )
    # The day's second step (11:00 local) invites to that afternoon's workshop (14:00 in
    # Amsterdam): an invitation keeps its own moment (calm moves only the rest, so none lands
    # after its workshop starts; dialogs/campaigns/timing.py), and the one colleague in New
    # York, whose 11:00 is after it started, is skipped.
    assert "14 more to come, the next from 2026-12-07 10:00 UTC." in shown
    assert "People targeted 15 · Reached 12" in shown


def test_status_says_what_it_waits_for() -> None:
    from bot.campaign_reports import Delivery, waiting_for

    due = Delivery(sent=3, to_send=2)
    assert due.going and waiting_for(due, quiet_for=5, stalled_after=30) == "sending"
    stalled = waiting_for(due, quiet_for=31, stalled_after=30)
    assert stalled.startswith("waiting: 2 due, none handled for 31 s; is regie serve running?")
    retry = Delivery(sent=3, retrying=2, retry_at=datetime(2026, 12, 7, 8, 31, tzinfo=UTC))
    assert retry.going and retry.due == 5
    assert waiting_for(retry, quiet_for=60, stalled_after=30) == (
        "2 to try again from 2026-12-07 08:31 UTC"
    )
    assert not Delivery(sent=3, in_console=2, dead=1, held=4, later=9).going


def test_pause_resume_and_cancel(run: Run, demo: Path) -> None:
    run("campaign", "launch", str(demo), "--yes")
    run("run-due", "--now", "2026-12-07T07:00:00+00:00")
    paused = run("campaign", "pause", "growth-week-2026")
    assert paused.returncode == 0 and "wait until you resume" in paused.stdout
    assert "not running" in run("campaign", "pause", "growth-week-2026").stderr
    assert "Resumed growth-week-2026" in run("campaign", "resume", "growth-week-2026").stdout
    cancelled = run("campaign", "cancel", "growth-week-2026", "--yes")
    assert "not sent yet were dropped" in cancelled.stdout
    relaunch = run("campaign", "launch", str(demo), "--yes")
    assert relaunch.returncode == 1 and "was cancelled" in relaunch.stderr
    listing = run("campaign", "list")
    assert "growth-week-2026" in listing.stdout and "cancelled" in listing.stdout


def test_the_console_presses_a_message_button_by_its_letter(engine: Engine) -> None:
    """Typing [b] (or b) under a campaign message presses its second button; JSON mode takes
    {"intent": …}."""
    import io

    from sqlmodel import Session

    from bot.channels.console import ConsoleChannel
    from dialogs.engine.content import load_content
    from dialogs.engine.replies import Offer
    from dialogs.engine.runtime import Runtime
    from dialogs.registry import DIALOGS
    from storage.models import Person, utcnow

    with Session(engine) as db:
        person = Person(email="c@example.com", name="Cas Console", welcomed_at=utcnow())
        db.add(person)
        db.commit()
        assert person.id is not None
        person_id = person.id
    runtime = Runtime(engine, dialogs=DIALOGS, content=load_content())
    out = io.StringIO()
    console = ConsoleChannel(runtime, person_id, out, json_mode=False)
    console.emit([Offer("Growth week!", (("checkin", "Sounds good"), ("settings", "Settings")))])
    assert "  [a] Sounds good\n  [b] Settings" in out.getvalue()
    replies = console.send("[b]")
    assert "Your settings" in replies[0].text
    json_console = ConsoleChannel(runtime, person_id, io.StringIO(), json_mode=True)
    assert "energy" in json_console.send('{"intent": "checkin"}')[-1].text.lower()
