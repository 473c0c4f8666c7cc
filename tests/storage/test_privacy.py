"""The guarded reads of another person's data, export and forget — on both databases."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from storage.models import Answer, AuditEntry, CheckIn, Experiment, Person, PlanItem, ProfileEntry
from storage.personal_data import export_person, forget_person
from storage.privacy import min_group_size, read_team, set_visibility


@pytest.fixture
def org(any_engine):
    with Session(any_engine) as db:
        boss = Person(email="boss@example.com", name="Boss")
        other_boss = Person(email="other@example.com", name="Other")
        db.add_all([boss, other_boss])
        db.flush()
        sam = Person(email="sam@example.com", name="Sam", manager_id=boss.id)
        db.add(sam)
        db.flush()
        skip = Person(email="skip@example.com", name="Skip", manager_id=sam.id)
        db.add(skip)
        db.flush()
        for item in (
            Experiment(person_id=sam.id, title="shared exp", visibility="manager"),
            Experiment(person_id=sam.id, title="private exp"),
            Answer(
                person_id=sam.id,
                dialog_id="reflection",
                question_id="q",
                text="shared answer",
                visibility="manager",
            ),
            CheckIn(person_id=sam.id, energy=4, next_step="private step"),
            PlanItem(person_id=sam.id, kind="team", title="shared plan", visibility="manager"),
            ProfileEntry(person_id=sam.id, kind="skill", text="private skill"),
            Experiment(person_id=skip.id, title="skip-level shared", visibility="manager"),
        ):
            db.add(item)
        db.commit()
        return {"boss": boss.id, "other": other_boss.id, "sam": sam.id, "skip": skip.id}


def test_a_manager_reads_only_shared_items_of_direct_reports_and_is_audited(
    any_engine, org
) -> None:
    with Session(any_engine) as db:
        boss = db.get(Person, org["boss"])
        team = read_team(db, manager=boss, since=None)
        assert list(team) == [org["sam"]]  # skip-level: never individual items
        items = team[org["sam"]]
        assert [e.title for e in items.experiments] == ["shared exp"]
        assert [a.text for a in items.answers] == ["shared answer"]
        assert [p.title for p in items.plan_items] == ["shared plan"]
        assert items.check_ins == [] and items.profile == []
        assert read_team(db, manager=db.get(Person, org["other"]), since=None) == {}
        db.commit()
        [entry] = db.exec(select(AuditEntry)).all()
        assert (entry.actor_id, entry.subject_id, entry.action) == (
            org["boss"],
            org["sam"],
            "manager_read",
        )


def test_only_the_owner_changes_visibility(any_engine, org) -> None:
    with Session(any_engine) as db:
        exp = db.exec(select(Experiment).where(Experiment.title == "private exp")).one()
        assert (
            set_visibility(
                db,
                owner_id=org["boss"],
                item_type="experiment",
                item_id=exp.id,
                visibility="manager",
            )
            is None
        )
        assert set_visibility(
            db, owner_id=org["sam"], item_type="experiment", item_id=exp.id, visibility="manager"
        )
        with pytest.raises(ValueError):
            set_visibility(
                db,
                owner_id=org["sam"],
                item_type="experiment",
                item_id=exp.id,
                visibility="everyone",
            )
        db.commit()
        assert db.get(Experiment, exp.id).visibility == "manager"


def test_export_contains_everything_of_the_person_and_nothing_of_others(any_engine, org) -> None:
    with Session(any_engine) as db:
        read_team(db, manager=db.get(Person, org["boss"]), since=None)
        db.commit()
        data = export_person(db, db.get(Person, org["sam"]))
    text = json.dumps(data)
    for fragment in (
        "shared exp",
        "private exp",
        "shared answer",
        "private step",
        "shared plan",
        "private skill",
    ):
        assert fragment in text
    assert "skip-level shared" not in text
    assert data["person"]["manager_email"] == "boss@example.com"
    assert data["audit_entry"][0]["action"] == "manager_read"  # who has read my data


def test_forget_deletes_everything_and_keeps_only_the_fact(any_engine, org) -> None:
    with Session(any_engine) as db:
        read_team(db, manager=db.get(Person, org["sam"]), since=None)  # sam reads skip's
        read_team(db, manager=db.get(Person, org["boss"]), since=None)
        db.commit()
        forget_person(db, db.get(Person, org["sam"]), by="admin")
        db.commit()
    with Session(any_engine) as db:
        assert db.get(Person, org["sam"]) is None
        for model in (Experiment, Answer, CheckIn, PlanItem, ProfileEntry):
            assert all(row.person_id != org["sam"] for row in db.exec(select(model)))
        assert db.get(Person, org["skip"]).manager_id is None
        entries = db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert "sam@example.com" not in json.dumps([e.detail for e in entries])
        assert [e.action for e in entries] == ["manager_read", "person_deleted"]
        assert entries[0].actor_id is None and entries[0].subject_id == org["skip"]


def test_group_size_never_below_three() -> None:
    assert min_group_size(1) == 3
    assert min_group_size(5) == 5


def test_a_private_lesson_of_a_shared_experiment_never_reaches_the_manager(any_engine, org) -> None:
    from storage.privacy import keep_lesson_private, shared_with_manager

    with Session(any_engine) as db:
        exp = db.exec(select(Experiment).where(Experiment.title == "shared exp")).one()
        exp.learned, exp.keep_doing = "PRIVATE-LESSON", "PRIVATE-KEEP"
        db.add(exp)
        assert keep_lesson_private(db, owner_id=org["boss"], experiment_id=exp.id) is None
        assert keep_lesson_private(db, owner_id=org["sam"], experiment_id=exp.id)
        db.commit()
        sam = db.get(Person, org["sam"])
        [seen] = read_team(db, manager=db.get(Person, org["boss"]), since=None)[
            org["sam"]
        ].experiments
        [preview] = shared_with_manager(db, sam).experiments
        for shown in (seen, preview):
            assert (shown.title, shown.learned, shown.keep_doing) == ("shared exp", None, None)
        db.rollback()
        stored = db.get(Experiment, exp.id)
        assert stored.learned == "PRIVATE-LESSON"  # only the manager's view leaves it out
        keep_lesson_private(db, owner_id=org["sam"], experiment_id=exp.id, private=False)
        [seen] = read_team(db, manager=db.get(Person, org["boss"]), since=None)[
            org["sam"]
        ].experiments
        assert seen.learned == "PRIVATE-LESSON"
