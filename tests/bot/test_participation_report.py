"""HR's participation report names every figure and says what it counts — "Active" included —
in the chat, at the command line and in the CSV, in English and Dutch, on both databases. The
command line and CSV texts are golden files (``UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.participation_report import participation_lines, write_participation_csv
from dialogs.engine.content import LANGUAGES, load_content
from dialogs.engine.metrics import metric
from storage.models import (
    Answer,
    CheckIn,
    DialogSession,
    Experiment,
    ExperimentStatus,
    GrowthConversation,
    Person,
    Role,
)
from storage.reports import Participation, participation
from tests.bot.conftest import Run
from tests.bot.test_campaign_report import golden
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import runtime
from tests.dialogs.transcript import Transcript

CONTENT = load_content()
START, END = date(2026, 1, 1), date(2026, 11, 30)


def organisation(engine: Engine) -> None:
    """Seven people: all reflected in November, two in October; five were active in the year."""
    with Session(engine) as db:
        people = [
            Person(
                email=f"p{n}@example.com",
                name=f"P{n}",
                welcomed_at=datetime(2026, 3, 2, tzinfo=UTC),
            )
            for n in range(7)
        ]
        db.add_all(people)
        db.flush()
        for n, person in enumerate(people):
            assert person.id is not None
            at = datetime(2026, 11, 4 + n, 12, tzinfo=UTC)
            db.add(
                Answer(
                    person_id=person.id,
                    dialog_id="reflection",
                    question_id="q",
                    text="x",
                    created_at=at,
                )
            )
            if n < 2:
                db.add(
                    Answer(
                        person_id=person.id,
                        dialog_id="reflection",
                        question_id="q",
                        text="x",
                        created_at=datetime(2026, 10, 9, 12, tzinfo=UTC),
                    )
                )
            if n < 5:
                db.add(
                    DialogSession(
                        person_id=person.id, dialog_id="checkin", step="done", updated_at=at
                    )
                )
                db.add(CheckIn(person_id=person.id, energy=4, created_at=at))
            if n < 6:
                db.add(
                    Experiment(person_id=person.id, title="Try", status=ExperimentStatus.PLANNED)
                )
            # Growth conversations in November: six had one (the seventh's was cancelled),
            # five prepared, two brought their agenda.
            db.add(
                GrowthConversation(
                    person_id=person.id,
                    planned_for=date(2026, 11, 20),
                    set_by="employee",
                    status="cancelled" if n == 6 else "planned",
                    topics="x",
                    prepared_at=at if n < 5 else None,
                    agenda_shared_at=at if n < 2 else None,
                )
            )
        db.commit()


def report(engine: Engine) -> Participation:
    with Session(engine) as db:
        found = participation(db, start=START, end=END, min_group=5)
        db.commit()
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_command_line_and_csv_name_and_define_each_figure(
    engine: Engine, tmp_path: Path, lang: str
) -> None:
    organisation(engine)
    found = report(engine)
    lines = participation_lines(CONTENT, lang, found, start=START, end=END)
    golden(f"participation_{lang}.txt", "\n".join(lines) + "\n")
    path = tmp_path / "p.csv"
    write_participation_csv(CONTENT, lang, found, path)
    text = path.read_text(encoding="utf-8")
    golden(f"participation_{lang}.csv", text)
    rows = list(csv.reader(io.StringIO(text)))
    for name, _, _, definition, key in rows[1:]:
        named = metric(CONTENT, lang, "participation", key)
        assert (name, definition) == (named.name, named.definition) and name != key
    assert "experiment_planned" not in "\n".join(lines)


def test_active_is_defined_and_counted_as_defined(engine: Engine) -> None:
    organisation(engine)
    cells = {(r.metric, r.period): report(engine).cell(r) for r in report(engine).rows}
    assert cells[("active", "")] == "5"  # five had a conversation in the period
    assert cells[("reflected", "2026-11")] == "7" and cells[("reflected", "2026-10")] == "<5"
    active = metric(CONTENT, "en", "participation", "active")
    assert active.name == "Active" and "at least one conversation with Regie" in active.definition


def test_hr_sees_the_names_and_what_they_mean_in_chat(engine: Engine) -> None:
    organisation(engine)
    hr = add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR, language="nl")
    chat = Transcript(runtime(engine, datetime(2026, 12, 1, 9, tzinfo=UTC)), hr)
    chat.send("deelname")
    said = chat.text
    assert "Actief: 6" in said  # the HR person's own conversation counts too
    assert "Gereflecteerd (2026-11): 7" in said
    active = metric(CONTENT, "nl", "participation", "active")
    assert f"• Actief: {active.definition}" in said
    assert "experiment_planned" not in said


def test_the_participation_command_takes_a_language(run: Run, engine: Engine) -> None:
    organisation(engine)
    shown = run(
        "report", "participation", "--from", "2026-01-01", "--to", "2026-11-30", "--lang", "nl"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Deelname 1 jan 2026 – 30 nov 2026")
    assert "Wat de cijfers betekenen:" in shown.stdout
    wrong = run("report", "participation", "--lang", "de")
    assert wrong.returncode == 2 and wrong.stderr.strip() == "--lang de: expected one of en, nl."
