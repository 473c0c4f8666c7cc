"""Migrations and database settings, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Answer, Person, Visibility


def test_migrations_create_exactly_the_models(fresh_db_url: str) -> None:
    engine = make_engine(fresh_db_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrade_is_idempotent(any_engine) -> None:
    upgrade(any_engine)
    upgrade(any_engine)
    tables = set(inspect(any_engine).get_table_names())
    assert {
        "person",
        "dialog_session",
        "answer",
        "experiment",
        "check_in",
        "plan_item",
        "profile_entry",
        "consent_record",
        "processed_inbound",
        "audit_entry",
        "channel_address",
    } <= tables


def test_every_personal_item_is_private_by_default(any_engine) -> None:
    with Session(any_engine) as db:
        person = Person(email="a@example.com", name="A")
        db.add(person)
        db.flush()
        answer = Answer(person_id=person.id, dialog_id="reflection", question_id="q", text="t")
        db.add(answer)
        db.commit()
        db.refresh(answer)
        assert answer.visibility == Visibility.PRIVATE and answer.in_aggregates is True
        assert answer.created_at.tzinfo is not None


def test_deleting_a_person_cascades_to_their_items(any_engine) -> None:
    with Session(any_engine) as db:
        person = Person(email="a@example.com", name="A")
        db.add(person)
        db.flush()
        db.add(Answer(person_id=person.id, dialog_id="reflection", question_id="q", text="t"))
        db.commit()
        db.delete(person)
        db.commit()
        assert db.exec(text("SELECT count(*) FROM answer")).one()[0] == 0  # type: ignore[call-overload]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
