"""The ``regie`` command as a person runs it, with piped stdin, on SQLite and PostgreSQL: in
this process (``run``), and as a real process where that is what is being proved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from storage.migrate import head_revision
from tests.bot.conftest import Run, in_process

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
    assert "Hi New" in first.stdout
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
    assert "Goedemorgen Marieke" in printed.stdout or "niets nieuws" in printed.stdout
    assert "Iets om over te praten" in printed.stdout or "niets nieuws" in printed.stdout
    assert run("digest", "--manager", "nobody@example.com").returncode == 1
