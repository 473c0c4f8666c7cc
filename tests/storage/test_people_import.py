"""Org-chart CSV import: upserts, manager links, and all-or-nothing validation."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Person
from storage.people_import import ImportResult, RowError, import_people

HEADER = "email,name,manager_email,department,role,language,timezone,country,start_date"


def _csv(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def _import(engine: Engine, source: io.StringIO, **kwargs: str) -> ImportResult:
    with Session(engine) as session:
        result = import_people(session, source, **kwargs)
        session.commit()
    return result


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Person)).one()


def _people(engine: Engine) -> dict[str, Person]:
    with Session(engine) as session:
        return {p.email: p for p in session.exec(select(Person)).all()}


def _add(engine: Engine, *people: tuple[str, str | None]) -> None:
    """Existing people as (email, manager email), added in order."""
    with Session(engine) as session:
        ids: dict[str, int | None] = {}
        for email, manager in people:
            person = Person(email=email, name=email.split("@")[0])
            person.manager_id = ids[manager] if manager else None
            session.add(person)
            session.flush()
            ids[email] = person.id
        session.commit()


def _assert_rejected(result: ImportResult, line: int, fragment: str) -> None:
    assert not result.ok
    assert (result.created, result.updated) == (0, 0)
    matching = [e for e in result.errors if e.line == line and fragment in e.message]
    assert matching, result.errors


# --- good imports ---------------------------------------------------------------------------


def test_good_import_links_managers_and_fills_defaults(any_engine: Engine) -> None:
    result = _import(
        any_engine,
        _csv(
            "boss@example.com,Anne Baas,,Board,manager,nl,Europe/London,gb,2020-01-06",
            "Dev@Example.com ,Dirk Dev,boss@example.com,R&D,,,,,",
        ),
    )
    assert result == ImportResult(created=2, updated=0, errors=())
    assert result.ok
    people = _people(any_engine)
    boss, dev = people["boss@example.com"], people["dev@example.com"]
    assert (boss.role, boss.language, boss.timezone, boss.country) == (
        "manager",
        "nl",
        "Europe/London",
        "GB",
    )
    assert boss.start_date == date(2020, 1, 6)
    assert boss.manager_id is None
    assert dev.manager_id == boss.id
    assert (dev.role, dev.language, dev.timezone, dev.country, dev.department) == (
        "employee",
        "en",
        "Europe/Amsterdam",
        "NL",
        "R&D",
    )
    assert dev.start_date is None


def test_second_import_updates_and_counts(any_engine: Engine) -> None:
    first = _csv("a@example.com,Ann,,,,,,,", "b@example.com,Bob,a@example.com,,,,,,")
    assert _import(any_engine, first).created == 2
    again = _csv("a@example.com,Ann,,,,,,,", "b@example.com,Bob,a@example.com,,,,,,")
    assert _import(any_engine, again) == ImportResult(created=0, updated=0, errors=())
    second = _csv(
        "A@EXAMPLE.COM,Ann Renamed,,,,,,,",
        "b@example.com,Bob,,,,,,,",
        "c@example.com,Cee,a@example.com,,,,,,",
    )
    assert _import(any_engine, second) == ImportResult(created=1, updated=2, errors=())
    people = _people(any_engine)
    assert set(people) == {"a@example.com", "b@example.com", "c@example.com"}
    assert people["a@example.com"].name == "Ann Renamed"
    assert people["b@example.com"].manager_id is None
    assert people["c@example.com"].manager_id == people["a@example.com"].id


def test_people_missing_from_file_are_left_alone(engine: Engine) -> None:
    _add(engine, ("old@example.com", None))
    result = _import(engine, _csv("new@example.com,New,old@example.com,,,,,,"))
    assert result == ImportResult(created=1, updated=0, errors=())
    people = _people(engine)
    assert people["old@example.com"].name == "old"
    assert people["new@example.com"].manager_id == people["old@example.com"].id


def test_managers_may_come_after_their_reports(engine: Engine) -> None:
    result = _import(
        engine,
        _csv(
            "c@example.com,Cee,b@example.com,,,,,,",
            "b@example.com,Bee,a@example.com,,,,,,",
            "a@example.com,Aay,,,,,,,",
        ),
    )
    assert result.created == 3
    people = _people(engine)
    assert people["c@example.com"].manager_id == people["b@example.com"].id
    assert people["b@example.com"].manager_id == people["a@example.com"].id


def test_bom_accents_emoji_and_extra_columns(engine: Engine) -> None:
    source = io.StringIO(
        "\ufeffEmail,Name,Badge,manager_email\r\n"
        "zoe@example.com,Zoë Ångström 🚀👩‍💻,42,\r\n"
        "jose@example.com,José Núñez,7,zoe@example.com\r\n"
    )
    assert _import(engine, source, default_language="nl", default_country="be").created == 2
    people = _people(engine)
    assert people["zoe@example.com"].name == "Zoë Ångström 🚀👩‍💻"
    assert people["jose@example.com"].manager_id == people["zoe@example.com"].id
    assert (people["jose@example.com"].language, people["jose@example.com"].country) == (
        "nl",
        "BE",
    )


def test_absent_columns_do_not_overwrite_existing_values(engine: Engine) -> None:
    _import(engine, _csv("a@example.com,Ann,,Sales,hr,nl,UTC,DE,2021-02-03"))
    assert _import(engine, _csv("a@example.com,Annie", header="email,name")).updated == 1
    ann = _people(engine)["a@example.com"]
    assert (ann.name, ann.department, ann.role, ann.language) == ("Annie", "Sales", "hr", "nl")
    assert (ann.timezone, ann.country, ann.start_date) == ("UTC", "DE", date(2021, 2, 3))


def test_control_characters_are_stripped(engine: Engine) -> None:
    source = _csv('a@example.com,"An\x07n\u202e\tie\nSmith",,,,,,,', "b@example.com,Bob,,,,,,,")
    assert _import(engine, source).created == 2
    assert _people(engine)["a@example.com"].name == "AnnieSmith"


def test_header_only_and_blank_lines(engine: Engine) -> None:
    assert _import(engine, _csv()) == ImportResult(created=0, updated=0, errors=())
    result = _import(engine, _csv("", "a@example.com,Ann,,,,,,,", "", "bad,Bob,,,,,,,"))
    _assert_rejected(result, 5, "invalid e-mail")


def test_only_flushes_so_the_caller_decides(engine: Engine) -> None:
    with Session(engine) as session:
        assert import_people(session, _csv("a@example.com,Ann,,,,,,,")).created == 1
        session.rollback()
    assert _count(engine) == 0


# --- rejected imports -----------------------------------------------------------------------

BAD_ROWS = [
    ("no-at-sign.example.com,Ann,,,,,,,", "invalid e-mail"),
    ("ann @example.com,Ann,,,,,,,", "invalid e-mail"),
    (",Ann,,,,,,,", "e-mail is empty"),
    ("a@example.com,,,,,,,,", "name is empty"),
    ("a@example.com, \x01 ,,,,,,,", "name is empty"),
    ("a@example.com,Ann,nobody@example.com,,,,,,", "unknown manager nobody@example.com"),
    ("a@example.com,Ann,not an email,,,,,,", "invalid manager e-mail"),
    ("a@example.com,Ann,A@example.com,,,,,,", "own manager"),
    ("a@example.com,Ann,,,,,Mars/Olympus,,", "unknown timezone"),
    ("a@example.com,Ann,,,,,../../etc/passwd,,", "unknown timezone"),
    ("a@example.com,Ann,,,,,,,2024-02-30", "start_date"),
    ("a@example.com,Ann,,,,,,,01-02-2024", "start_date"),
    ("a@example.com,Ann,,,,,,,20240102", "start_date"),
    ("a@example.com,Ann,,,boss,,,,", "unknown role"),
    ("a@example.com,Ann,,,,de,,,", "unknown language"),
    ("a@example.com,Ann,,,,,,NLD,", "two-letter"),
    ("a@example.com,Ann,,,,,,N1,", "two-letter"),
    ("a@example.com," + "x" * 201 + ",,,,,,,", "name is longer than 200"),
    ("a@example.com,Ann,," + "d" * 201 + ",,,,,", "department is longer than 200"),
]


@pytest.mark.parametrize(("row", "fragment"), BAD_ROWS)
def test_bad_row_rejects_the_whole_file(engine: Engine, row: str, fragment: str) -> None:
    result = _import(engine, _csv("ok@example.com,Okay,,,,,,,", row))
    _assert_rejected(result, 3, fragment)
    assert all(error.line == 3 for error in result.errors)
    assert _count(engine) == 0


def test_bad_row_does_not_touch_existing_people(engine: Engine) -> None:
    _import(engine, _csv("a@example.com,Ann,,,,,,,"))
    result = _import(engine, _csv("a@example.com,Renamed,,,,,,,", "b@example.com,Bob,,,,xx,,,"))
    _assert_rejected(result, 3, "unknown language")
    assert _count(engine) == 1
    assert _people(engine)["a@example.com"].name == "Ann"


def test_bad_default_is_reported_on_rows_that_use_it(engine: Engine) -> None:
    result = _import(engine, _csv("a@example.com,Ann,,,,,,,"), default_timezone="Nowhere/Town")
    _assert_rejected(result, 2, "unknown timezone 'Nowhere/Town'")


def test_duplicate_email_reports_the_later_line(engine: Engine) -> None:
    result = _import(
        engine,
        _csv("a@example.com,Ann,,,,,,,", "b@example.com,Bob,,,,,,,", " A@Example.COM,Ann2,,,,,,,"),
    )
    _assert_rejected(result, 4, "duplicate e-mail a@example.com; first on line 2")
    assert [error.line for error in result.errors] == [4]
    assert result.errors[0].email == "a@example.com"
    assert _count(engine) == 0


@pytest.mark.parametrize("column", ["email", "name"])
def test_missing_required_column(engine: Engine, column: str) -> None:
    header = ",".join(c for c in HEADER.split(",") if c != column)
    result = _import(engine, _csv("x,y,,,,,,", header=header))
    _assert_rejected(result, 1, f"missing required column '{column}'")
    assert _count(engine) == 0


def test_empty_file(engine: Engine) -> None:
    _assert_rejected(_import(engine, io.StringIO("")), 1, "empty")


def test_two_person_cycle(engine: Engine) -> None:
    result = _import(
        engine,
        _csv(
            "a@example.com,Ann,b@example.com,,,,,,",
            "c@example.com,Cee,a@example.com,,,,,,",
            "b@example.com,Bob,a@example.com,,,,,,",
        ),
    )
    _assert_rejected(result, 2, "manager cycle")
    _assert_rejected(result, 4, "manager cycle")
    assert [error.line for error in result.errors] == [2, 4]  # c only reports into the cycle
    assert _count(engine) == 0


def test_longer_cycle(engine: Engine) -> None:
    result = _import(
        engine,
        _csv(
            "a@example.com,Ann,b@example.com,,,,,,",
            "b@example.com,Bob,c@example.com,,,,,,",
            "c@example.com,Cee,a@example.com,,,,,,",
        ),
    )
    assert [error.line for error in result.errors] == [2, 3, 4]
    assert "a@example.com → b@example.com → c@example.com → a@example.com" in (
        result.errors[0].message
    )
    assert _count(engine) == 0


def test_cycle_through_people_already_in_the_database(engine: Engine) -> None:
    _add(engine, ("boss@example.com", None), ("mid@example.com", "boss@example.com"))
    result = _import(
        engine,
        _csv("new@example.com,New,,,,,,,", "boss@example.com,Boss,mid@example.com,,,,,,"),
    )
    _assert_rejected(result, 3, "manager cycle")
    assert "mid@example.com" in result.errors[0].message
    assert [error.line for error in result.errors] == [3]
    assert _count(engine) == 2
    assert _people(engine)["boss@example.com"].manager_id is None


def test_reassigning_a_manager_inside_the_file_breaks_a_database_cycle(engine: Engine) -> None:
    _add(engine, ("boss@example.com", None), ("mid@example.com", "boss@example.com"))
    result = _import(
        engine,
        _csv("boss@example.com,Boss,mid@example.com,,,,,,", "mid@example.com,Mid,,,,,,,"),
    )
    assert result == ImportResult(created=0, updated=2, errors=())
    people = _people(engine)
    assert people["boss@example.com"].manager_id == people["mid@example.com"].id
    assert people["mid@example.com"].manager_id is None


def test_several_bad_rows_are_reported_together(engine: Engine) -> None:
    result = _import(
        engine,
        _csv(
            "a@example.com,Ann,,,,,,,",
            "broken,,,,,,,,",
            "b@example.com,Bob,ghost@example.com,,chief,fr,Moon/Base,NLD,tomorrow",
            "c@example.com,Cee,,,,,,,",
        ),
    )
    assert not result.ok
    lines = [error.line for error in result.errors]
    assert lines == sorted(lines)
    assert {e.message.split(" ")[0] for e in result.errors if e.line == 3} == {"invalid", "name"}
    row4 = [e.message for e in result.errors if e.line == 4]
    assert len(row4) == 6
    for fragment in ("unknown manager", "role", "language", "timezone", "country", "start_date"):
        assert any(fragment in message for message in row4), row4
    assert all(isinstance(error, RowError) for error in result.errors)
    assert _count(engine) == 0


def test_line_numbers_count_physical_lines(engine: Engine) -> None:
    result = _import(engine, _csv('a@example.com,"Ann\nSecond line",,,,,,,', "b@x,Bob,,,,,,,zz"))
    _assert_rejected(result, 4, "start_date")


def test_repeated_column_is_ambiguous(engine: Engine) -> None:
    result = _import(engine, _csv("a@example.com,Ann,Annie", header="email,name,Name"))
    _assert_rejected(result, 1, "column 'name' appears more than once")
    assert _count(engine) == 0


def test_unreadable_csv_reports_where_it_stopped(engine: Engine) -> None:
    result = _import(engine, _csv("a@example.com,Ann,,,,,,,", "b@example.com," + "x" * 200_000))
    _assert_rejected(result, 3, "unreadable CSV")
    assert _count(engine) == 0
