"""The manager's digest: only what direct reports shared, team counts only over groups of at
least K, fitting conversation starters, audited reads, timing at the manager's local Monday."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.slack.blocks import messages
from dialogs.engine.content import load_content
from dialogs.nudges.digest import as_replies, compose, due_digests
from storage.models import Answer, AuditEntry, CheckIn, Experiment, Person
from storage.outbox import OutboxMessage, enqueue, enqueue_many
from tests.dialogs.transcript import Transcript

NOW = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)  # Monday 09:05 in Amsterdam
HOSTILE = "<!channel> <https://evil.example|click> @here [x](https://evil.example)"


def build_team(engine, *, reports: int = 5, opted_out: int = 0) -> dict[str, int]:
    with Session(engine) as db:
        boss = Person(email="boss@example.com", name="Bea Baas", language="nl", welcomed_at=NOW)
        skip = Person(email="skip@example.com", name="Sam Skip", welcomed_at=NOW)
        db.add_all([boss, skip])
        db.flush()
        boss.manager_id = skip.id
        ids = {"boss": boss.id, "skip": skip.id}
        for n in range(reports):
            person = Person(
                email=f"r{n}@example.com",
                name=f"Report{n} Person",
                manager_id=boss.id,
                welcomed_at=NOW,
                in_aggregates=n >= opted_out,
            )
            db.add(person)
            db.flush()
            ids[f"r{n}"] = person.id
        recent = NOW - timedelta(days=2)
        db.add(
            Experiment(
                person_id=ids["r0"],
                title=HOSTILE,
                status="done",
                learned="Listening is a skill",
                visibility="manager",
                created_at=recent,
                updated_at=recent,
                done_at=recent,
            )
        )
        db.add(
            Experiment(
                person_id=ids["r1"], title="Secret plan", created_at=recent, updated_at=recent
            )
        )
        db.add(
            Answer(
                person_id=ids["r1"],
                dialog_id="reflection",
                question_id="dot-on-horizon",
                text="Lead a team",
                visibility="manager",
                created_at=recent,
            )
        )
        db.add(
            Answer(
                person_id=ids["r2"],
                dialog_id="reflection",
                question_id="half-year-off",
                text="Private thought",
                created_at=recent,
            )
        )
        db.add(CheckIn(person_id=ids["r2"], energy=2, next_step="private step", created_at=recent))
        db.commit()
        return ids


def digest_for(engine, ids, *, since=None, min_group=5):
    with Session(engine, expire_on_commit=False) as db:
        boss = db.get(Person, ids["boss"])
        digest = compose(db, load_content(), boss, now=NOW, min_group=min_group, since=since)
        db.commit()
        return digest


def test_only_shared_items_of_direct_reports_with_counts_and_starters(engine) -> None:
    ids = build_team(engine)
    digest = digest_for(engine, ids)
    text = "\n".join(digest.sections)
    assert "Listening is a skill" in text and "Lead a team" in text
    for private in ("Secret plan", "Private thought", "private step"):
        assert private not in text
    assert len(digest.sections) == 2  # only people who shared something new
    assert digest.team is not None and "5 mensen" in digest.team
    assert any("stip op de horizon" in s for s in digest.starters)  # Bea reads Dutch
    assert any("Listening" not in s and "Report0" in s for s in digest.starters)
    with Session(engine) as db:
        reads = db.exec(select(AuditEntry).where(AuditEntry.action == "manager_read")).all()
        # the reports whose data the digest shows; nothing was seen of the others
        assert {r.subject_id for r in reads} == {ids["r0"], ids["r1"]}
        assert {r.actor_id for r in reads} == {ids["boss"]}
        assert db.exec(select(AuditEntry).where(AuditEntry.action == "manager_aggregate")).one()


@pytest.mark.parametrize(("opted_out", "shown"), [(0, True), (1, False)])
def test_team_counts_need_k_people_who_allow_aggregates(engine, opted_out, shown) -> None:
    ids = build_team(engine, opted_out=opted_out)
    assert (digest_for(engine, ids).team is not None) is shown


def test_k_boundary_and_the_floor_of_three(engine) -> None:
    ids = build_team(engine, reports=3)
    assert digest_for(engine, ids, min_group=3).team is not None
    assert digest_for(engine, ids, min_group=4).team is None
    assert digest_for(engine, ids, min_group=1).team is not None  # 1 is raised to 3: 3 people


def test_an_item_made_private_again_leaves_the_next_digest(engine) -> None:
    ids = build_team(engine)
    with Session(engine) as db:
        answer = db.exec(select(Answer).where(Answer.text == "Lead a team")).one()
        answer.visibility = "private"
        db.add(answer)
        db.commit()
    assert "Lead a team" not in "\n".join(digest_for(engine, ids).sections)


def test_hostile_text_is_escaped_in_every_rendering(engine) -> None:
    from bot.channels.teams.cards import escape as card_escape

    ids = build_team(engine)
    replies = as_replies(load_content(), digest_for(engine, ids))
    slack = json.dumps([m.blocks for m in messages(replies, lambda key, **v: key)])
    assert (
        "<!channel>" not in slack and "<https://evil" not in slack and "&lt;!channel&gt;" in slack
    )
    assert "\\[x\\](https://evil.example)" in card_escape(HOSTILE)


def test_nothing_new_means_no_digest_unless_a_note_is_wanted(engine) -> None:
    ids = build_team(engine, reports=3)
    with Session(engine) as db:  # last week's digest went out: only newer items count now
        enqueue(db, OutboxMessage("digest:last-week", ids["boss"], "digest", NOW, []))
        db.commit()
    with Session(engine) as db:
        content = load_content()
        quiet = due_digests(db, content, now=NOW + timedelta(days=7), min_group=5)
        noted = due_digests(
            db, content, now=NOW + timedelta(days=7), min_group=5, nothing_new_note=True
        )
    [skipped] = [d for d in quiet if d.person_id == ids["boss"]]
    assert skipped.skipped
    [note] = [d for d in noted if d.person_id == ids["boss"]]
    assert not note.skipped and "niets nieuws" in note.payload[0]["text"].lower()


@pytest.mark.parametrize(
    ("zone", "monday", "slot_utc"),
    [
        (
            "Europe/Amsterdam",
            datetime(2026, 3, 23, tzinfo=UTC),
            datetime(2026, 3, 23, 8, 0, tzinfo=UTC),
        ),
        (
            "Europe/Amsterdam",
            datetime(2026, 3, 30, tzinfo=UTC),
            datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        ),
        (
            "America/New_York",
            datetime(2026, 11, 2, tzinfo=UTC),
            datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
        ),
    ],
)
def test_digests_come_at_the_managers_local_monday_morning(engine, zone, monday, slot_utc) -> None:
    ids = build_team(engine)
    with Session(engine) as db:
        boss = db.get(Person, ids["boss"])
        boss.timezone, boss.country = zone, ("US" if "New" in zone else "NL")
        db.add(boss)
        db.commit()
        content = load_content()
        assert not [
            d
            for d in due_digests(db, content, now=slot_utc - timedelta(minutes=1), min_group=5)
            if d.person_id == ids["boss"]
        ]
        [due] = [
            d
            for d in due_digests(db, content, now=slot_utc, min_group=5)
            if d.person_id == ids["boss"]
        ]
    assert due.due == slot_utc and due.key.endswith(monday.date().isoformat())


def test_managers_ask_in_chat_and_employees_see_who_looked(engine, runtime) -> None:
    ids = build_team(engine)
    boss = Transcript(runtime, ids["boss"])
    boss.send("mijn team")
    boss.expect("Listening is a skill", "Iets om over te praten")
    boss.expect_not("Secret plan")
    employee = Transcript(runtime, ids["r0"])
    employee.send("privacy")
    employee.choose("seen")
    employee.expect("Bea Baas")
    someone = Transcript(runtime, ids["r4"])
    someone.send("my team")
    someone.expect(someone.t("digest.no_reports"))


def test_a_skip_level_manager_gets_no_individual_items(engine) -> None:
    ids = build_team(engine)
    with Session(engine, expire_on_commit=False) as db:
        skip = db.get(Person, ids["skip"])
        digest = compose(db, load_content(), skip, now=NOW, min_group=1)
    assert "Listening" not in "\n".join(digest.sections)


@pytest.mark.parametrize(("cadence", "expected"), [("weekly", 4), ("biweekly", 2), ("monthly", 1)])
def test_digest_rhythm(engine, cadence, expected) -> None:
    ids = build_team(engine)
    with Session(engine) as db:
        boss = db.get(Person, ids["boss"])
        boss.digest_cadence = cadence
        db.add(boss)
        db.commit()
    sent = 0
    for week in range(4):  # the Mondays 7, 14, 21, 28 December 09:05 Amsterdam
        now = datetime(2026, 12, 7, 8, 5, tzinfo=UTC) + timedelta(weeks=week)
        with Session(engine) as db:
            for due in due_digests(db, load_content(), now=now, min_group=5, nothing_new_note=True):
                if due.person_id == ids["boss"]:
                    sent += enqueue_many(db, [due])
            db.commit()
    assert sent == expected


def test_managers_choose_their_digest_rhythm_in_settings(engine, runtime) -> None:
    ids = build_team(engine)
    boss = Transcript(runtime, ids["boss"])
    boss.send("instellingen")
    boss.choose("digest")
    boss.choose("monthly")
    boss.expect(boss.t("settings.digest_set", cadence=boss.t("settings.digest_cadences.monthly")))
    with Session(engine) as db:
        assert db.get(Person, ids["boss"]).digest_cadence == "monthly"
    employee = Transcript(runtime, ids["r0"])
    employee.send("settings")
    assert "digest" not in [o.value for o in employee.prompt.options()]
