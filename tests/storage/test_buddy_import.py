"""``buddy_email`` in the people CSV: optional, someone in the file or already known, never the
person themself; a bad buddy rejects the whole file with its line number."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Person
from storage.people_import import import_people

HEADER = "email,name,manager_email,start_date,buddy_email"


def run(engine: Engine, *rows: str, header: str = HEADER):
    with Session(engine) as db:
        result = import_people(db, io.StringIO("\n".join([header, *rows]) + "\n"))
        db.commit()
    return result


def buddies(engine: Engine) -> dict[str, str | None]:
    with Session(engine) as db:
        people = db.exec(select(Person)).all()
        email = {p.id: p.email for p in people}
        return {p.email: email.get(p.buddy_id) if p.buddy_id else None for p in people}


def test_buddies_link_in_either_order_and_to_people_already_known(engine: Engine) -> None:
    result = run(
        engine,
        "new@example.com,New Person,,2026-12-01,later@example.com",
        "later@example.com,Later Listed,,,",
    )
    assert result.ok and result.created == 2
    assert buddies(engine)["new@example.com"] == "later@example.com"
    result = run(engine, "second@example.com,Second,,2026-12-07,LATER@example.com")
    assert result.ok
    assert buddies(engine)["second@example.com"] == "later@example.com"


def test_an_empty_cell_clears_and_an_absent_column_keeps(engine: Engine) -> None:
    run(engine, "a@example.com,A,,,b@example.com", "b@example.com,B,,,")
    result = run(engine, "a@example.com,A", header="email,name")
    assert result.ok and buddies(engine)["a@example.com"] == "b@example.com"
    result = run(engine, "a@example.com,A,,,")
    assert result.ok and result.updated == 1
    assert buddies(engine)["a@example.com"] is None


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("x@example.com,X,,,x@example.com", "is their own buddy"),
        ("x@example.com,X,,,nobody@example.com", "unknown buddy nobody@example.com"),
        ("x@example.com,X,,,not-an-address", "invalid buddy e-mail"),
    ],
)
def test_a_bad_buddy_rejects_the_whole_file(engine: Engine, row: str, fragment: str) -> None:
    result = run(engine, "ok@example.com,Ok,,,", row)
    assert not result.ok and (result.created, result.updated) == (0, 0)
    assert {e.line for e in result.errors} == {3}
    assert any(fragment in e.message for e in result.errors)
    with Session(engine) as db:
        assert db.exec(select(Person)).all() == []
