"""A digest reaches the manager as it stands when it is delivered: queued at the slot,
composed again from what is shared then, audited only once the manager has it (delivered on a
platform, or shown in the console), not held back by the manager's nudge pause, and never
sent to a manager who chose no digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.delivery import NOT_PAUSED, console_inbox
from bot.jobs import enqueue_due
from dialogs.engine.assistant import ContentAssistant
from dialogs.engine.content import load_content
from dialogs.nudges.digest import due_digests
from storage.models import Answer, AuditEntry, Experiment, Outbound, OutboxState, Person
from storage.outbox import enqueue_many
from storage.privacy import SharedItems, readings, set_visibility
from tests.privacy_world import RecordingSender, deliver

CONTENT = load_content()
SLOT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 in Amsterdam
LATER = SLOT + timedelta(minutes=20)


def team(engine: Engine, *, slack: bool = True, **boss: object) -> dict[str, int]:
    recent = SLOT - timedelta(days=2)
    with Session(engine) as db:
        bea = Person(
            email="bea@example.com",
            name="Bea Baas",
            welcomed_at=recent - timedelta(days=90),
            slack_user_id="UBEA" if slack else None,
            **boss,  # type: ignore[arg-type]
        )
        db.add(bea)
        db.flush()
        ids = {"bea": bea.id}
        for name in ("ann", "bob"):
            person = Person(
                email=f"{name}@example.com",
                name=name.title(),
                manager_id=bea.id,
                welcomed_at=recent - timedelta(days=90),
            )
            db.add(person)
            db.flush()
            ids[name] = person.id
        db.add_all(
            [
                Answer(
                    person_id=ids["ann"],
                    dialog_id="reflection",
                    question_id="dot-on-horizon",
                    text="ANN-thought-to-unshare",
                    visibility="manager",
                    created_at=recent,
                ),
                Experiment(
                    person_id=ids["bob"],
                    title="BOB-experiment",
                    visibility="manager",
                    created_at=recent,
                    updated_at=recent,
                ),
            ]
        )
        db.commit()
        return {k: int(v) for k, v in ids.items() if v is not None}


def settings(db_url: str) -> Settings:
    return Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]


def unshare(engine: Engine, owner: int, text: str) -> None:
    with Session(engine) as db:
        answer = db.exec(select(Answer).where(Answer.text == text)).one()
        assert answer.id is not None
        set_visibility(
            db, owner_id=owner, item_type="answer", item_id=answer.id, visibility="private"
        )
        db.commit()


def manager_reads(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == "manager_read")))


def digest_row(engine: Engine) -> Outbound:
    with Session(engine) as db:
        return db.exec(select(Outbound).where(Outbound.kind == "digest")).one()


def test_an_item_made_private_after_the_digest_was_queued_never_reaches_the_manager(
    engine: Engine, db_url: str
) -> None:
    ids = team(engine)
    enqueue_due(settings(db_url), SLOT)
    assert "ANN-thought-to-unshare" in str(digest_row(engine).payload)  # queued with it
    assert manager_reads(engine) == []  # queued is not read
    unshare(engine, ids["ann"], "ANN-thought-to-unshare")
    slack = RecordingSender()
    deliver(engine, [slack], LATER)
    got = slack.texts(ids["bea"])
    assert "BOB-experiment" in got and "ANN-thought-to-unshare" not in got
    row = digest_row(engine)
    assert row.state == OutboxState.SENT and "ANN-thought-to-unshare" not in str(row.payload)
    reads = manager_reads(engine)
    assert [(r.actor_id, r.subject_id, r.at) for r in reads] == [(ids["bea"], ids["bob"], LATER)]
    with Session(engine) as db:  # from the employees' side
        assert [(r.what, r.reader and r.reader.id) for r in readings(db, ids["bob"])] == [
            ("digest", ids["bea"])
        ]
        assert readings(db, ids["ann"]) == []


def test_in_the_console_the_digest_is_composed_and_audited_when_it_is_shown(
    engine: Engine, db_url: str
) -> None:
    ids = team(engine, slack=False)
    enqueue_due(settings(db_url), SLOT)
    deliver(engine, [RecordingSender(reaches=lambda person: False)], LATER)
    assert digest_row(engine).channel == "console" and manager_reads(engine) == []
    unshare(engine, ids["ann"], "ANN-thought-to-unshare")
    shown_at = LATER + timedelta(days=1)
    with Session(engine) as db:
        shown = "\n".join(r.text for r in console_inbox(db, ids["bea"], now=shown_at))
        db.commit()
    assert "BOB-experiment" in shown and "ANN-thought-to-unshare" not in shown
    assert [(r.subject_id, r.at) for r in manager_reads(engine)] == [(ids["bob"], shown_at)]
    assert digest_row(engine).state == OutboxState.SENT


def test_a_digest_with_nothing_left_to_show_is_not_sent_and_nobody_is_audited(
    engine: Engine, db_url: str
) -> None:
    ids = team(engine)
    enqueue_due(settings(db_url), SLOT)
    unshare(engine, ids["ann"], "ANN-thought-to-unshare")
    with Session(engine) as db:
        bob_experiment = db.exec(select(Experiment)).one()
        bob_experiment.visibility = "private"  # type: ignore[assignment]
        db.add(bob_experiment)
        db.commit()
    slack = RecordingSender()
    deliver(engine, [slack], LATER)
    assert slack.sent == []
    row = digest_row(engine)
    assert (row.state, row.last_error) == (OutboxState.SKIPPED, "nothing shared any more")
    assert manager_reads(engine) == []


def test_a_paused_manager_still_gets_their_digest(engine: Engine, db_url: str) -> None:
    """The decision: a digest is the manager's information about their team, not a nudge,
    so a nudge pause does not hold it back (docs/architecture.md, README); it is read — and
    audited — when it arrives."""
    ids = team(engine, nudge_paused_until=date(2026, 12, 31))
    assert "digest" in NOT_PAUSED
    enqueue_due(settings(db_url), SLOT)
    slack = RecordingSender()
    deliver(engine, [slack], LATER)
    assert "BOB-experiment" in slack.texts(ids["bea"])
    assert digest_row(engine).state == OutboxState.SENT
    assert {r.subject_id for r in manager_reads(engine)} == {ids["ann"], ids["bob"]}


def test_a_manager_who_chose_no_digests_gets_none(engine: Engine, db_url: str) -> None:
    team(engine, digest_cadence="off")
    enqueue_due(settings(db_url), SLOT)
    with Session(engine) as db:
        assert db.exec(select(Outbound).where(Outbound.kind == "digest")).all() == []
    assert manager_reads(engine) == []


class Opening(ContentAssistant):
    """An assistant whose opening quotes what it was given (as a model's might)."""

    def digest_opening(
        self, db: Session, manager: Person, shared: Sequence[tuple[Person, SharedItems]]
    ) -> str | None:
        texts = [a.text for _, items in shared for a in items.answers]
        return "OPENING: " + "; ".join(texts)


@pytest.mark.parametrize(("unshared", "kept"), [(False, True), (True, False)])
def test_the_ai_opening_is_kept_only_while_everything_it_was_written_from_is_shared(
    engine: Engine, unshared: bool, kept: bool
) -> None:
    ids = team(engine)
    with Session(engine) as db:
        due = due_digests(db, CONTENT, now=SLOT, min_group=5, assistant=Opening(CONTENT))
        enqueue_many(db, due)
        db.commit()
    if unshared:
        unshare(engine, ids["ann"], "ANN-thought-to-unshare")
    slack = RecordingSender()
    deliver(engine, [slack], LATER)
    assert ("OPENING: ANN-thought-to-unshare" in slack.texts(ids["bea"])) is kept
    assert "ANN-thought-to-unshare" not in str(digest_row(engine).payload) or kept
