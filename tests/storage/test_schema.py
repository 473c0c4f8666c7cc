"""Migrations and database settings, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, CheckConstraint, insert, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from storage.db import make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import (
    Answer,
    Campaign,
    CampaignLaunch,
    CampaignRsvp,
    CheckIn,
    ConsentKind,
    ConsentRecord,
    ConversationSide,
    DialogSession,
    Experiment,
    ExperimentStatus,
    FeedbackAsk,
    FeedbackRequest,
    GrowthConversation,
    LearningEntry,
    LearningKind,
    LinkPurpose,
    OneTimeLink,
    Outbound,
    OutboxState,
    Person,
    PlanItem,
    PlanKind,
    PostState,
    ProfileEntry,
    ProfileKind,
    Story,
    Visibility,
)
from storage.outbox import OutboxMessage, enqueue


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


def _checked_columns() -> list[tuple[str, str]]:
    """(table, column) of every ``ck_<table>_<column>`` the models declare."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                column = str(constraint.name).removeprefix(f"ck_{table.name}_")
                assert column in table.columns, constraint.name
                found.append((table.name, column))
    return found


def test_every_column_with_a_fixed_set_of_values_is_checked() -> None:
    assert set(_checked_columns()) == {
        ("person", "role"),
        ("person", "default_visibility"),
        ("dialog_session", "status"),
        ("answer", "visibility"),
        ("experiment", "visibility"),
        ("experiment", "status"),
        ("check_in", "visibility"),
        ("check_in", "experiment_status"),
        ("plan_item", "visibility"),
        ("plan_item", "kind"),
        ("plan_item", "status"),
        ("profile_entry", "visibility"),
        ("profile_entry", "kind"),
        ("consent_record", "kind"),
        ("outbound", "state"),
        ("campaign", "state"),
        ("campaign_rsvp", "state"),
        ("one_time_link", "purpose"),
        ("campaign_launch", "state"),
        ("feedback_request", "visibility"),
        ("feedback_ask", "state"),
        ("story", "state"),
        ("story", "post_state"),
        ("learning_entry", "visibility"),
        ("learning_entry", "kind"),
        ("growth_conversation", "set_by"),
        ("growth_conversation", "status"),
    }


def test_the_migrations_create_the_checks_the_models_declare(any_engine) -> None:
    """``compare_metadata`` does not look at CHECK constraints: compared here by name."""
    inspector = inspect(any_engine)
    for table, column in _checked_columns():
        names = {c["name"] for c in inspector.get_check_constraints(table)}
        assert f"ck_{table}_{column}" in names


def _one_row_in_every_checked_table(engine) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with Session(engine) as db:
        person = Person(email="a@example.com", name="A")
        db.add(person)
        db.flush()
        assert person.id is not None
        experiment = Experiment(person_id=person.id, title="t")
        campaign = Campaign(slug="c", name="C", spec_hash="h")
        db.add_all([experiment, campaign])
        db.flush()
        assert campaign.id is not None
        db.add_all(
            [
                DialogSession(person_id=person.id, dialog_id="menu", step="s"),
                Answer(person_id=person.id, dialog_id="reflection", question_id="q", text="t"),
                CheckIn(person_id=person.id, energy=3, experiment_status=ExperimentStatus.DOING),
                PlanItem(person_id=person.id, kind=PlanKind.TEAM, title="t"),
                ProfileEntry(person_id=person.id, kind=ProfileKind.SKILL, text="t"),
                ConsentRecord(person_id=person.id, kind=ConsentKind.AI, granted=True),
                CampaignRsvp(campaign_id=campaign.id, workshop="w", person_id=person.id),
                OneTimeLink(
                    token_hash="h", person_id=person.id, purpose=LinkPurpose.SIGN_IN, expires_at=now
                ),
                CampaignLaunch(slug="c", spec_hash="h", requested_by_id=person.id),
            ]
        )
        request = FeedbackRequest(person_id=person.id, topic="t")
        db.add(request)
        db.flush()
        assert request.id is not None
        db.add(FeedbackAsk(request_id=request.id, colleague_id=person.id))
        db.add(Story(person_id=person.id, title="t", post_state=PostState.PENDING))
        db.add(LearningEntry(person_id=person.id, kind=LearningKind.COURSE, title="t"))
        db.add(
            GrowthConversation(
                person_id=person.id, planned_for=now.date(), set_by=ConversationSide.EMPLOYEE
            )
        )
        enqueue(db, OutboxMessage("k", person.id, "checkin", now, []))
        db.commit()


def test_the_database_refuses_a_value_outside_its_set(any_engine) -> None:
    """Every checked column, on SQLite and PostgreSQL: a plain UPDATE to an unknown state,
    status or kind fails in the database itself, whatever code wrote it."""
    _one_row_in_every_checked_table(any_engine)
    for table, column in _checked_columns():
        with any_engine.connect() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
            with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"):
                connection.execute(text(f"UPDATE {table} SET {column} = 'bogus'"))
            connection.rollback()


def test_an_outbox_row_in_an_unknown_state_is_refused(any_engine) -> None:
    _one_row_in_every_checked_table(any_engine)
    with Session(any_engine) as db:
        row = db.exec(select(Outbound)).one()
        assert row.state is OutboxState.PENDING  # read back as the enum's member
        row.state = "lost"  # type: ignore[assignment]
        db.add(row)
        with pytest.raises(IntegrityError):
            db.commit()


def _at_0006_with_campaign_messages(url: str):
    """A database at revision 0006 (before campaign_step) with a person, an answer, a
    campaign and its messages in the outbox, written as 0006 knew them."""
    engine = make_engine(url)
    upgrade(engine, "0006")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    person = sa.table(
        "person",
        *(sa.column(n) for n in ("id", "email", "name", "department", "role", "language")),
        *(sa.column(n) for n in ("timezone", "country", "nudge_frequency", "default_visibility")),
        *(sa.column(n) for n in ("in_aggregates", "campaigns_opt_out", "created_at")),
    )
    answer = sa.table(
        "answer",
        *(sa.column(n) for n in ("person_id", "visibility", "in_aggregates", "created_at")),
        *(sa.column(n) for n in ("dialog_id", "question_id", "text")),
    )
    campaign = sa.table(
        "campaign",
        *(sa.column(n) for n in ("id", "slug", "name", "owner_id", "state", "spec_hash")),
        *(sa.column(n) for n in ("version", "launched_at", "updated_at")),
        sa.column("spec", JSON),
    )
    outbound = sa.table(
        "outbound",
        *(sa.column(n) for n in ("idempotency_key", "person_id", "kind", "state", "campaign_id")),
        *(sa.column(n) for n in ("attempts", "not_before", "created_at")),
        sa.column("payload", JSON),
    )
    with engine.begin() as connection:
        connection.execute(
            insert(person).values(
                id=1,
                email="a@example.com",
                name="A",
                department="",
                role="employee",
                language="en",
                timezone="UTC",
                country="NL",
                nudge_frequency="biweekly",
                default_visibility="private",
                in_aggregates=True,
                campaigns_opt_out=False,
                created_at=at,
            )
        )
        connection.execute(
            insert(answer).values(
                person_id=1,
                visibility="private",
                in_aggregates=True,
                created_at=at,
                dialog_id="reflection",
                question_id="q",
                text="t",
            )
        )
        connection.execute(
            insert(campaign).values(
                id=1,
                slug="growth-week",
                name="G",
                owner_id=1,
                state="running",
                spec={},
                spec_hash="h",
                version=1,
                launched_at=at,
                updated_at=at,
            )
        )
        connection.execute(
            insert(outbound),
            [
                {
                    "idempotency_key": key,
                    "person_id": 1,
                    "kind": kind,
                    "state": "pending",
                    "campaign_id": campaign_id,
                    "attempts": 0,
                    "not_before": at,
                    "created_at": at,
                    "payload": [],
                }
                for key, kind, campaign_id in (
                    ("campaign:growth-week:kickoff:1", "campaign", 1),
                    ("campaign:growth-week:kickoff:1:again", "campaign", 1),
                    ("campaign:growth-week:day-3:1:place-w1-20261201090000", "campaign", 1),
                    ("checkin:1:2026-12-01", "checkin", None),
                )
            ],
        )
    return engine


def test_0007_fills_in_campaign_steps_and_keeps_every_row(fresh_db_url: str) -> None:
    engine = _at_0006_with_campaign_messages(fresh_db_url)
    upgrade(engine)
    with engine.connect() as connection:
        steps = dict(
            connection.execute(text("SELECT idempotency_key, campaign_step FROM outbound")).all()
        )
        assert steps == {
            "campaign:growth-week:kickoff:1": "kickoff",
            "campaign:growth-week:kickoff:1:again": "kickoff",
            "campaign:growth-week:day-3:1:place-w1-20261201090000": "day-3",
            "checkin:1:2026-12-01": None,
        }
        # SQLite recreates the tables it adds checks to: nothing cascades meanwhile
        for name, rows in (("person", 1), ("answer", 1), ("campaign", 1)):
            assert connection.execute(text(f"SELECT count(*) FROM {name}")).scalar() == rows
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_0007_names_the_values_it_would_refuse(fresh_db_url: str) -> None:
    engine = _at_0006_with_campaign_messages(fresh_db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE person SET role = 'boss'"))
    with pytest.raises(RuntimeError, match=r"person.role = 'boss' \(1 rows\)"):
        upgrade(engine)
    assert current_revision(engine) == "0006"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM answer")).scalar() == 1
        if connection.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
