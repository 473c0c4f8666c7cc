"""Every manager's digest composed together (``compose_many``: a few queries per batch of
managers, ``storage.privacy.read_teams``) is exactly the digest each would get alone, and
audits every read by whoever really read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from dialogs.engine.content import load_content
from dialogs.nudges import digest as digests
from dialogs.nudges.digest import compose, compose_many, due_digests
from storage.models import Answer, AuditEntry, CheckIn, Experiment, Person
from storage.privacy import Reader

NOW = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)  # Monday 09:05 in Amsterdam


def build_org(engine) -> list[int]:
    """Three managers: Ann with six reports who shared at different moments, Bob with two
    (too few for team counts), Cas with none; Dirk reports to nobody's manager of these."""
    with Session(engine) as db:
        managers = [
            Person(email="ann@example.com", name="Ann Baas", language="nl", welcomed_at=NOW),
            Person(email="bob@example.com", name="Bob Chef", welcomed_at=NOW),
            Person(email="cas@example.com", name="Cas Lead", welcomed_at=NOW),
        ]
        db.add_all(managers)
        db.flush()
        ann, bob, _ = (m.id for m in managers)
        people = [
            Person(email=f"a{n}@example.com", name=f"Aya{n} Team", manager_id=ann, welcomed_at=NOW)
            for n in range(6)
        ] + [
            Person(email=f"b{n}@example.com", name=f"Ben{n} Team", manager_id=bob, welcomed_at=NOW)
            for n in range(2)
        ]
        people.append(Person(email="dirk@example.com", name="Dirk Solo", welcomed_at=NOW))
        db.add_all(people)
        db.flush()
        ten_days, two_days = NOW - timedelta(days=10), NOW - timedelta(days=2)
        a0, a1, a2, a3, _, _, b0, b1, dirk = (p.id for p in people)
        db.add_all(
            [
                Experiment(
                    person_id=a0,
                    title="Pair on reviews",
                    status="done",
                    learned="Ask first",
                    visibility="manager",
                    created_at=ten_days,
                    updated_at=two_days,  # older, but changed since: news
                ),
                Experiment(
                    person_id=a1,
                    title="Old and untouched",
                    visibility="manager",
                    created_at=ten_days,
                    updated_at=ten_days,
                ),
                Experiment(person_id=a2, title="Private one", created_at=two_days),
                Answer(
                    person_id=a3,
                    dialog_id="reflection",
                    question_id="dot-on-horizon",
                    text="Lead a team",
                    visibility="manager",
                    created_at=two_days,
                ),
                CheckIn(
                    person_id=a3,
                    energy=4,
                    next_step="Demo on Friday",
                    visibility="manager",
                    created_at=two_days,
                ),
                Answer(
                    person_id=b0,
                    dialog_id="reflection",
                    question_id="half-year-off",
                    text="Learn Dutch",
                    visibility="manager",
                    created_at=ten_days,  # shared before Bob's last digest? depends on since
                ),
                CheckIn(person_id=b1, energy=3, next_step="x", created_at=two_days),
                Answer(
                    person_id=dirk,
                    dialog_id="reflection",
                    question_id="dot-on-horizon",
                    text="Not anyone's report here",
                    visibility="manager",
                    created_at=two_days,
                ),
            ]
        )
        db.commit()
        return [m.id for m in managers if m.id is not None]


def _seen(digest: digests.Digest) -> tuple[object, ...]:
    return (
        digest.manager.id,
        digest.sections,
        digest.team,
        digest.team_people,
        digest.starters,
        digest.starters_about,
        digest.subjects,
        digest.items,
        digest.since,
    )


def _audits(db: Session) -> list[tuple[object, ...]]:
    rows = db.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    return sorted(
        ((a.actor_id, a.subject_id, a.action, a.detail.get("people")) for a in rows), key=str
    )


@pytest.mark.parametrize("batch", [1, 2, 250])
def test_composed_together_each_digest_is_what_it_is_alone(engine, monkeypatch, batch) -> None:
    ids = build_org(engine)
    content = load_content()
    since = {ids[0]: NOW - timedelta(days=7), ids[1]: NOW - timedelta(days=30), ids[2]: NOW}
    with Session(engine, expire_on_commit=False) as db:
        managers = [db.get(Person, i) for i in ids]
        alone = [compose(db, content, m, now=NOW, min_group=5, since=since[m.id]) for m in managers]
        seen_alone = [_seen(d) for d in alone]
        audited_alone = _audits(db)
        db.rollback()
    monkeypatch.setattr(digests, "BATCH", batch)
    with Session(engine, expire_on_commit=False) as db:
        managers = [db.get(Person, i) for i in ids]
        together = compose_many(db, content, managers, now=NOW, min_group=5, since=since)
        audited_together = _audits(db)
        db.commit()
    assert [_seen(d) for d in together] == seen_alone
    ann, bob, cas = together
    # Ann: the experiment changed since her last digest (its lesson), the answer and check-in;
    # not the untouched old one, not the private one; counts over her six reports
    assert len(ann.sections) == 2 and "Pair on reviews" in ann.sections[0]
    assert "Lead a team" in ann.sections[1] and "Demo on Friday" in ann.sections[1]
    assert not any("Old and untouched" in s or "Private one" in s for s in ann.sections)
    assert ann.team_people == 6
    # Bob: his window reaches back 30 days, so the ten-day-old answer is news; two reports are
    # too few for counts
    assert len(bob.sections) == 1 and "Learn Dutch" in bob.sections[0]
    assert bob.team is None and bob.team_people is None
    assert cas.empty and cas.team is None
    assert not any("Not anyone's report here" in s for d in together for s in d.sections)
    # every read audited, by the manager who read it: one per report shown, plus Ann's counts
    assert audited_together == audited_alone
    reports_read = [(actor, subject) for actor, subject, action, _ in audited_together if subject]
    assert sorted(reports_read) == sorted(
        [(ann.manager.id, s) for s in ann.subjects] + [(bob.manager.id, s) for s in bob.subjects]
    )
    assert (ann.manager.id, None, "manager_aggregate", 6) in audited_together
    with Session(engine) as db:  # and stored, once each
        assert _audits(db) == audited_together


def test_read_for_someone_else_the_audit_names_the_real_reader(engine) -> None:
    ids = build_org(engine)
    content = load_content()
    with Session(engine, expire_on_commit=False) as db:
        managers = [db.get(Person, i) for i in ids]
        since = {i: NOW - timedelta(days=30) for i in ids}
        admin = Reader.administrator("ops-jan")
        compose_many(db, content, managers, now=NOW, min_group=5, since=since, reader=admin)
        db.commit()
    with Session(engine) as db:
        entries = db.exec(select(AuditEntry)).all()
    assert entries and all(e.actor_id is None for e in entries)
    assert all(e.detail.get("operator") == "ops-jan" for e in entries)


def test_digests_on_their_way_are_composed_together_and_not_audited(engine) -> None:
    ids = build_org(engine)
    content = load_content()
    with Session(engine, expire_on_commit=False) as db:
        queued = due_digests(db, content, now=NOW, min_group=5)
        assert db.exec(select(AuditEntry)).all() == []
        managers = {m.id: m for m in (db.get(Person, i) for i in ids)}
        expected = {
            i: compose(db, content, managers[i], now=NOW, min_group=5, audited=False) for i in ids
        }
    by_manager = {message.person_id: message for message in queued}
    assert sorted(by_manager) == sorted(ids[:2])  # Cas manages no one: no digest
    for manager_id, message in by_manager.items():
        digest = expected[manager_id]
        assert message.key == f"digest:{manager_id}:2026-11-30"
        assert message.skipped == digest.empty
        assert message.payload == digests.as_payload(
            content,
            digest,
            recipe={"since": digest.since.isoformat(), "min_group": 5, "note_if_empty": False},
        )
