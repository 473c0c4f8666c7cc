"""How long text is kept: outbox payloads are emptied N days after delivery (the rows stay, so
nothing is sent twice), and — only when the organisation sets a retention period — items
older than it are deleted, after a notice to their owner some days before, from the
scheduler's job (``bot/jobs.py``) at fixed instants."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.jobs import enqueue_due
from dialogs.engine.replies import Say, reply_to_dict
from storage.models import (
    Answer,
    AuditEntry,
    DialogSession,
    Experiment,
    Outbound,
    OutboxState,
    Person,
)
from storage.outbox import OutboxMessage, enqueue_many, prune_payloads, redact_about, retry_dead
from storage.retention import months_before

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
TEXT = [reply_to_dict(Say("SECRET-TEXT"))]


def settings(db_url: str, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=db_url, **values)  # type: ignore[call-arg]


def person(engine: Engine, email: str = "kim@example.com", **fields: object) -> int:
    with Session(engine) as db:
        row = Person(email=email, name="Kim Keep", welcomed_at=NOW - timedelta(days=900), **fields)  # type: ignore[arg-type]
        db.add(row)
        db.commit()
        assert row.id is not None
        return row.id


def test_payloads_are_emptied_n_days_after_delivery_and_the_rows_stay(engine: Engine) -> None:
    pid = person(engine)
    with Session(engine) as db:
        enqueue_many(
            db,
            [
                OutboxMessage("old-sent", pid, "checkin", NOW - timedelta(days=40), TEXT),
                OutboxMessage("new-sent", pid, "checkin", NOW - timedelta(days=10), TEXT),
                OutboxMessage(
                    "old-skipped", pid, "checkin", NOW - timedelta(days=40), TEXT, skipped=True
                ),
                OutboxMessage("old-dead", pid, "checkin", NOW - timedelta(days=40), TEXT),
                OutboxMessage("old-pending", pid, "checkin", NOW - timedelta(days=40), TEXT),
            ],
        )
        rows = {r.idempotency_key: r for r in db.exec(select(Outbound))}
        rows["old-sent"].state, rows["old-sent"].sent_at = (
            OutboxState.SENT,
            NOW - timedelta(days=31),
        )
        rows["new-sent"].state, rows["new-sent"].sent_at = (
            OutboxState.SENT,
            NOW - timedelta(days=29),
        )
        rows["old-dead"].state = OutboxState.DEAD
        db.add_all(rows.values())
        db.commit()
        assert prune_payloads(db, before=NOW - timedelta(days=30)) == 3
        assert prune_payloads(db, before=NOW - timedelta(days=30)) == 0  # nothing twice
        db.commit()
        kept = {r.idempotency_key: r.payload for r in db.exec(select(Outbound))}
        assert kept == {
            "old-sent": [],
            "new-sent": TEXT,
            "old-skipped": [],
            "old-dead": [],
            "old-pending": TEXT,  # not delivered yet: still to be sent
        }
        assert retry_dead(db, now=NOW) == 0  # its text is gone: not sent empty
        dead = db.exec(select(Outbound).where(Outbound.idempotency_key == "old-dead")).one()
        assert dead.state == OutboxState.SKIPPED and "expired" in (dead.last_error or "")


def test_the_scheduler_prunes_with_the_configured_days(engine: Engine, db_url: str) -> None:
    pid = person(engine)
    with Session(engine) as db:
        enqueue_many(db, [OutboxMessage("sent", pid, "checkin", NOW - timedelta(days=9), TEXT)])
        row = db.exec(select(Outbound)).one()
        row.state, row.sent_at = OutboxState.SENT, NOW - timedelta(days=8)
        db.add(row)
        db.commit()
    enqueue_due(settings(db_url), NOW)  # default 30 days: kept
    enqueue_due(settings(db_url, outbox_retention_days=7), NOW)
    with Session(engine) as db:
        assert db.exec(select(Outbound)).one().payload == []


def test_forgetting_someone_removes_their_part_of_other_peoples_messages(engine: Engine) -> None:
    """Labelled parts (``about``) go; a digest queued before parts were labelled loses the
    parts that quote the person's name or text."""
    boss, kim = person(engine, "boss@example.com"), person(engine)
    parts = [
        {"kind": "say", "text": "Hi Boss!", "section": True},
        {"kind": "say", "text": "OPENING about Kim and Lee", "about": [kim, 99]},
        {"kind": "say", "text": "What Kim Keep has shared: KIM-TEXT", "about": [kim]},
        {"kind": "say", "text": "What Lee has shared: LEE-TEXT", "about": [99]},
    ]
    legacy = [
        {"kind": "say", "text": "Hi Boss!"},
        {"kind": "say", "text": "What Kim Keep has shared:\n• Plan: x"},
        {"kind": "say", "text": "• Reflection: q → LEGACY-KIM-TEXT"},
        {"kind": "say", "text": "What Lee has shared: LEE-TEXT"},
    ]
    with Session(engine) as db:
        enqueue_many(
            db,
            [
                OutboxMessage("digest:new", boss, "digest", NOW, parts),
                OutboxMessage("digest:old", boss, "digest", NOW, legacy),
            ],
        )
        db.commit()
        assert redact_about(db, kim, traces=["Kim Keep", "LEGACY-KIM-TEXT"]) == 2
        db.commit()
        payloads = {r.idempotency_key: json.dumps(r.payload) for r in db.exec(select(Outbound))}
    for payload in payloads.values():
        assert "Kim" not in payload and "KIM-TEXT" not in payload
        assert "LEE-TEXT" in payload and "Hi Boss!" in payload


def test_months_before_keeps_to_the_calendar() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def items(engine: Engine, pid: int) -> list[str]:
    with Session(engine) as db:
        answers = [a.text for a in db.exec(select(Answer).where(Answer.person_id == pid))]
        experiments = [
            e.title for e in db.exec(select(Experiment).where(Experiment.person_id == pid))
        ]
    return sorted(answers + experiments)


def test_old_items_are_announced_then_deleted_on_the_day_the_notice_named(
    engine: Engine, db_url: str
) -> None:
    kim = person(engine, language="nl", nudge_paused_until=date(2027, 1, 31))
    lee = person(engine, "lee@example.com")
    with Session(engine) as db:
        thirteen_months = NOW - timedelta(days=400)
        db.add_all(
            [
                Answer(
                    person_id=kim,
                    dialog_id="r",
                    question_id="q",
                    text="OLD-answer",
                    created_at=thirteen_months,
                ),
                Answer(
                    person_id=kim,
                    dialog_id="r",
                    question_id="q",
                    text="NEW-answer",
                    created_at=NOW - timedelta(days=30),
                ),
                # planned long ago, but worked on last month: counts from its last change
                Experiment(
                    person_id=kim,
                    title="TOUCHED-experiment",
                    created_at=thirteen_months,
                    updated_at=NOW - timedelta(days=30),
                ),
                Experiment(
                    person_id=kim,
                    title="OLD-experiment",
                    created_at=thirteen_months,
                    updated_at=thirteen_months,
                ),
                Answer(
                    person_id=lee,
                    dialog_id="r",
                    question_id="q",
                    text="LEE-old",
                    created_at=thirteen_months,
                ),
                DialogSession(
                    person_id=kim,
                    dialog_id="reflection",
                    step="ask",
                    status="done",
                    values={"typed": "OLD-session"},
                    updated_at=thirteen_months,
                ),
            ]
        )
        db.commit()
    off = settings(db_url)
    on = settings(db_url, retention_months=12, retention_notice_days=14)

    enqueue_due(off, NOW)  # off by default: nothing announced, nothing deleted
    assert items(engine, kim) == [
        "NEW-answer",
        "OLD-answer",
        "OLD-experiment",
        "TOUCHED-experiment",
    ]

    enqueue_due(on, NOW)  # on: announced first, nothing deleted yet
    enqueue_due(on, NOW + timedelta(hours=1))  # the same notice once
    assert items(engine, kim) == [
        "NEW-answer",
        "OLD-answer",
        "OLD-experiment",
        "TOUCHED-experiment",
    ]
    with Session(engine) as db:
        notices = {
            n.person_id: n for n in db.exec(select(Outbound).where(Outbound.kind == "retention"))
        }
    assert set(notices) == {kim, lee}
    text = notices[kim].payload[0]["text"]
    assert "2 items" in text and "21 dec 2026" in text.lower() and "12 maanden" in text  # Dutch
    assert notices[kim].payload[0]["actions"][0][0] == "privacy"
    due = notices[kim].not_before
    assert due == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # her nudge time, though she paused

    enqueue_due(on, due + timedelta(days=13))  # a day before the day the notice named
    assert "OLD-answer" in items(engine, kim)
    enqueue_due(on, due + timedelta(days=14))
    assert items(engine, kim) == ["NEW-answer", "TOUCHED-experiment"]
    assert items(engine, lee) == []
    with Session(engine) as db:
        assert db.exec(select(DialogSession).where(DialogSession.person_id == kim)).all() == []
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "retention_deleted")).all()
        assert sorted(a.detail["items"] for a in audit) == [1, 2]
        assert all(a.subject_id is None for a in audit)  # not a read: not in "who has seen"


def test_a_notice_that_never_went_out_deletes_nothing(engine: Engine, db_url: str) -> None:
    kim = person(engine)
    with Session(engine) as db:
        db.add(
            Answer(
                person_id=kim,
                dialog_id="r",
                question_id="q",
                text="OLD",
                created_at=NOW - timedelta(days=400),
            )
        )
        db.commit()
    on = settings(db_url, retention_months=12)
    enqueue_due(on, NOW)
    with Session(engine) as db:
        notice = db.exec(select(Outbound).where(Outbound.kind == "retention")).one()
        notice.state = OutboxState.DEAD
        db.add(notice)
        db.commit()
    enqueue_due(on, NOW + timedelta(days=20))
    assert items(engine, kim) == ["OLD"]
