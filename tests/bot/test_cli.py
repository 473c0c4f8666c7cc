"""The ``regie`` command as a person runs it, with piped stdin, on SQLite and PostgreSQL: in
this process (``run``), and as a real process where that is what is being proved."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.engine.replies import Offer, reply_to_dict
from storage.migrate import head_revision
from storage.models import DialogSession, Person
from storage.outbox import OutboxMessage, enqueue
from tests.bot.conftest import Ran, Run, in_process

HEAVY = (
    "aiohttp",
    "alembic",
    "apscheduler",
    "botbuilder",
    "dialogs",
    "jsonschema",
    "openai",
    "pydantic",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "sqlmodel",
    "storage",
    "yaml",
)
"""What ``regie --help`` must not import: each command imports its own when it runs."""


def test_help_imports_none_of_the_commands_dependencies() -> None:
    """A fresh interpreter (hence a process): ``regie --help`` loads Typer, Rich and the thin
    command modules only, which keeps it well under half a second of CPU."""
    probe = (
        "import sys\n"
        "from bot.cli import app\n"
        "sys.argv = ['regie', '--help']\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        f"print(sorted(loaded & set({HEAVY!r})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "campaign" in done.stdout and "Regie: a development companion" in done.stdout
    assert done.stderr.strip() == "[]"


def test_a_real_process_pipes_exit_codes_and_streams(run_process: Run) -> None:
    """The installed console script, as a person or a script runs it."""
    missing = run_process("export", "--person", "nobody@example.com")
    assert missing.returncode == 1 and "No person with e-mail" in missing.stderr
    assert run_process("demo").returncode == 0
    chat = run_process("chat", "--as", "alex@example.com", stdin="hi\n1\nyes\n2\n")
    assert chat.returncode == 0, chat.stderr
    assert "Every two weeks it is." in chat.stdout


def test_commands_before_init_say_what_to_do(fresh_db_url: str, tmp_path: Path) -> None:
    result = in_process(fresh_db_url, tmp_path)("people", "list")
    assert result.returncode == 2
    assert "regie init" in result.stderr


def test_init_is_idempotent(fresh_db_url: str, tmp_path: Path) -> None:
    run = in_process(fresh_db_url, tmp_path)
    first, second = run("init"), run("init")
    assert first.returncode == second.returncode == 0, first.stderr
    assert f"revision {head_revision()}" in second.stdout
    assert run("people", "list").returncode == 0


def test_demo_and_chat_as_the_demo_employee(run: Run) -> None:
    run("init")
    demo = run("demo")
    assert demo.returncode == 0, demo.stderr
    assert "alex@example.com" in demo.stdout
    listing = run("people", "list")
    assert "marieke.jansen@example.com" in listing.stdout
    chat = run("chat", "--as", "alex@example.com", stdin="hi\n1\nyes\n2\n")
    assert chat.returncode == 0, chat.stderr
    assert "I'm Regie" in chat.stdout and "1. English" in chat.stdout
    assert "Every two weeks it is." in chat.stdout


def test_chat_enrols_a_new_person_and_continues_after_a_restart(run: Run) -> None:
    run("init")
    first = run("chat", "--as", "New.Person@Example.com", stdin="hi\n2\n")
    assert re.search(r"(Hi|Hello|Good \w+) New\b", first.stdout), first.stdout  # by the hour
    assert "Top, vanaf nu praat ik Nederlands met je." in first.stdout
    second = run("chat", "--as", "new.person@example.com", stdin="ja\n")
    assert second.stdout.splitlines()[0] == "Fijn dat je er weer bent! Hier waren we gebleven:"
    assert "Nederlands" not in second.stdout.splitlines()[0]
    assert "seintje" in second.stdout.lower()  # next question: how often to nudge


def test_open_enrolment_off_refuses_strangers(run: Run) -> None:
    run("init")
    result = run(
        "chat",
        "--as",
        "stranger@example.com",
        stdin="hi\n",
        extra_env={"REGIE_OPEN_ENROLMENT": "false"},
    )
    assert result.returncode == 1
    assert "open enrolment is off" in result.stderr


def test_json_mode_can_be_driven_by_a_program(run: Run) -> None:
    run("init")
    result = run(
        "chat",
        "--as",
        "bot.driver@example.com",
        "--json",
        stdin='hi\n{"value": "en"}\n{"value": "yes"}\n',
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(1 for line in lines if line == {"type": "turn_end"}) == 3
    prompt = next(line for line in lines if line["type"] == "prompt")
    assert prompt["kind"] == "choice"
    assert {"label": "English", "value": "en"} in prompt["choices"]
    assert all(
        set(line) >= {"type", "kind", "text", "choices"}
        for line in lines
        if line["type"] != "turn_end"
    )
    assert lines[-2]["text"].startswith("How often")

    stale = {
        "value": "nl",
        "session": prompt["ref"]["session"],
        "step": "language",
        "seq": prompt["ref"]["seq"],
    }
    again = run("chat", "--as", "bot.driver@example.com", "--json", stdin=json.dumps(stale) + "\n")
    texts = [json.loads(line).get("text", "") for line in again.stdout.splitlines()]
    assert any("already answered" in t for t in texts)


CSV_GOOD = """\
email,name,manager_email,department,role,language,timezone,country,start_date,shoe
boss@example.com,Bea Baas,,Sales,manager,nl,Europe/Amsterdam,NL,2020-01-01,40
ann@example.com,Ann Example,boss@example.com,Sales,employee,en,Europe/London,GB,2026-11-01,38
"""
CSV_BAD = """email,name,manager_email,department,role,language,timezone,country,start_date
ok@example.com,Okay,,Sales,employee,en,Europe/Amsterdam,NL,
bad@example.com,Bad Zone,,Sales,employee,en,Mars/Olympus,NL,
late@example.com,Bad Date,nobody@example.com,Sales,employee,en,Europe/Amsterdam,NL,2026-13-45
"""


def test_people_import_all_or_nothing(run: Run, tmp_path: Path) -> None:
    run("init")
    (tmp_path / "good.csv").write_text(CSV_GOOD, encoding="utf-8")
    (tmp_path / "bad.csv").write_text(CSV_BAD, encoding="utf-8")
    bad = run("people", "import", "bad.csv")
    assert bad.returncode == 1
    assert "Nothing imported" in bad.stderr
    assert "line 3" in bad.stderr and "line 4" in bad.stderr and "line 2:" not in bad.stderr
    assert "ok@example.com" not in run("people", "list").stdout
    good = run("people", "import", "good.csv")
    assert good.returncode == 0, good.stderr
    assert "Imported 2 new" in good.stdout
    listing = run("people", "list").stdout
    assert "ann@example.com" in listing and "boss@example.com" in listing


def test_export_and_forget(run: Run) -> None:
    run("init")
    run("chat", "--as", "leaving@example.com", stdin="hi\n1\nyes\n2\nreflect\nI like puzzles\n")
    exported = run("export", "--person", "leaving@example.com")
    data = json.loads(exported.stdout)
    assert data["person"]["email"] == "leaving@example.com"
    assert [a["text"] for a in data["answer"]] == ["I like puzzles"]
    refused = run("forget", "--person", "leaving@example.com")
    assert refused.returncode == 2
    done = run("forget", "--person", "leaving@example.com", "--yes")
    assert done.returncode == 0
    assert run("export", "--person", "leaving@example.com").returncode == 1
    assert "leaving@example.com" not in run("people", "list").stdout


def test_digest_print_for_a_demo_manager(run: Run) -> None:
    run("init")
    run("demo")
    printed = run("digest", "--manager", "marieke.jansen@example.com", "--print")
    assert printed.returncode == 0, printed.stderr
    assert "Marieke!" in printed.stdout or "niets nieuws" in printed.stdout
    assert "Iets om over te praten" in printed.stdout or "niets nieuws" in printed.stdout
    assert run("digest", "--manager", "nobody@example.com").returncode == 1


# -- issue 14: the console after "delete all my data", and buttons that outlive a chat ---------

WELCOME_EN = "hi\n1\nyes\n2\n"
WELCOME_NL = "hi\n2\nja\n2\n"


@pytest.mark.parametrize(
    ("welcome", "delete", "yes", "deleted", "hello"),
    [
        (WELCOME_EN, "Delete all my data", "Yes", "we'll start fresh", "I'm Regie"),
        (WELCOME_NL, "Al mijn gegevens wissen", "Ja", "dan beginnen we opnieuw", "ik ben Regie"),
    ],
    ids=["en", "nl"],
)
def test_after_deleting_everything_the_next_line_starts_afresh(
    run: Run, welcome: str, delete: str, yes: str, deleted: str, hello: str
) -> None:
    """The promise "send me a message and we'll start fresh" holds in the same chat: the next
    line enrols the person anew (no crash), and the chat goes on as a first meeting."""
    run("init")
    stdin = welcome + f"privacy\n{delete}\n{yes}\nhi\n"
    result = run("chat", "--as", "gone@example.com", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    after = result.stdout.split(deleted, 1)[1]
    assert hello in after and "1. English" in after  # welcomed again, from the start
    assert "gone@example.com" in run("people", "list").stdout
    again = run("chat", "--as", "gone@example.com", stdin="1\n")
    assert again.returncode == 0, again.stderr


def _nudge(engine: Engine, email: str, offer: Offer, at: datetime, key: str) -> None:
    with Session(engine) as db:
        person = db.exec(select(Person).where(Person.email == email)).one()
        assert person.id is not None
        enqueue(db, OutboxMessage(key, person.id, "checkin", at, [reply_to_dict(offer)]))
        db.commit()


WELCOMED = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "welcome", "labels", "energy"),
    [
        ("en", WELCOME_EN, ("Check in now", "Remind me later", "Pause nudges"), "energy"),
        ("nl", WELCOME_NL, ("Nu inchecken", "Herinner me later", "Seintjes pauzeren"), "energie"),
    ],
)
def test_console_buttons_outlive_the_chat_that_showed_them(
    run: Run, engine: Engine, lang: str, welcome: str, labels: tuple[str, str, str], energy: str
) -> None:
    """A nudge's letters mean the same in the next ``regie chat``; once one of its buttons is
    pressed the others are spent; a later message's letters follow on; after two weeks
    unanswered they lapse."""

    def at(instant: datetime, *args: str, stdin: str = "") -> Ran:
        with time_machine.travel(instant, tick=False):
            return run(*args, stdin=stdin)

    run("init")
    assert at(WELCOMED, "chat", "--as", "kim@example.com", stdin=welcome).returncode == 0
    shown_at = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    checkin, later, pause = labels
    buttons = (("checkin", checkin), ("later:k1", later), ("pause", pause))
    _nudge(engine, "kim@example.com", Offer("Check-in?", buttons), shown_at, "k1")

    shown = at(shown_at, "chat", "--as", "kim@example.com")
    assert f"  [a] {checkin}\n  [b] {later}\n  [c] {pause}" in shown.stdout
    pressed = at(shown_at + timedelta(hours=1), "chat", "--as", "kim@example.com", stdin="a\n")
    assert pressed.returncode == 0, pressed.stderr
    assert energy in pressed.stdout.lower()  # the check-in started, after a restart
    spent = at(shown_at + timedelta(hours=2), "chat", "--as", "kim@example.com", stdin="c\n")
    assert spent.returncode == 0, spent.stderr
    with Session(engine) as db:
        kim = db.exec(select(Person).where(Person.email == "kim@example.com")).one()
        assert kim.nudge_paused_until is None  # [c] of an answered message pauses nothing

    reflect = Offer("Reflect?", (("reflect", "Reflect now"), ("pause", pause)))
    second_at = shown_at + timedelta(days=1)
    _nudge(engine, "kim@example.com", reflect, second_at, "k2")
    second = at(second_at, "chat", "--as", "kim@example.com", stdin="cancel\n")
    assert f"  [d] Reflect now\n  [e] {pause}" in second.stdout  # the letters follow on
    in_time = at(second_at + timedelta(days=1), "chat", "--as", "kim@example.com", stdin="d\n")
    assert in_time.returncode == 0, in_time.stderr
    assert dialogs_of(engine, "kim@example.com").count("reflection") == 1

    third_at = second_at + timedelta(days=2)
    _nudge(engine, "kim@example.com", Offer("Check-in?", buttons[::2]), third_at, "k3")
    third = at(third_at, "chat", "--as", "kim@example.com", stdin="cancel\n")
    assert f"  [f] {checkin}\n  [g] {pause}" in third.stdout
    checkins = dialogs_of(engine, "kim@example.com").count("checkin")
    lapsed = at(third_at + timedelta(days=15), "chat", "--as", "kim@example.com", stdin="f\n")
    assert lapsed.returncode == 0, lapsed.stderr
    assert dialogs_of(engine, "kim@example.com").count("checkin") == checkins  # two weeks on


def dialogs_of(engine: Engine, email: str) -> list[str]:
    """The conversations someone started, oldest first."""
    with Session(engine) as db:
        person = db.exec(select(Person).where(Person.email == email)).one()
        query = select(DialogSession).where(DialogSession.person_id == person.id)
        return [s.dialog_id for s in db.exec(query.order_by(DialogSession.id))]
