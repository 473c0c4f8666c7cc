"""``enqueue_many`` with many messages at once (a campaign launch, a tick's nudges): every
column stored as given — on PostgreSQL the rows travel as one JSON document per chunk — a
repeated key added once, and the count of new rows right across chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

import storage.db
from storage.models import Campaign, Outbound, OutboxState, Person
from storage.outbox import OutboxMessage, enqueue, enqueue_many

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _people(engine, count: int) -> tuple[list[int], int]:
    with Session(engine) as db:
        people = [Person(email=f"p{n}@example.com", name=f"P{n}") for n in range(count)]
        db.add_all(people)
        db.flush()
        campaign = Campaign(
            slug="growth",
            name="Growth",
            owner_id=people[0].id,
            spec={},
            spec_hash="x",
            launched_at=NOW,
            updated_at=NOW,
        )
        db.add(campaign)
        db.commit()
        return [p.id for p in people if p.id is not None], campaign.id or 0


def test_every_column_is_stored_as_given_and_a_repeat_is_a_no_op(engine, monkeypatch) -> None:
    monkeypatch.setattr(storage.db, "_JSON_ROWS", 3)  # several chunks on PostgreSQL
    people, campaign = _people(engine, 4)
    local = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    payload = [
        {
            "kind": "offer",
            "text": "Goedemorgen Ünal! \U0001f331 \\ \"q\" 'x'\n",
            "actions": [["a", "Ja"]],
        },
        {"kind": "say", "text": "", "about": [1, 2], "nested": {"n": None, "f": 1.5, "b": True}},
    ]
    messages = [
        OutboxMessage(
            f"campaign:growth:kickoff:{person}",
            person,
            "campaign",
            local,
            payload,
            campaign_id=campaign,
            campaign_step="kickoff",
            not_after=NOW + timedelta(days=1),
        )
        for person in people
    ]
    messages.append(
        OutboxMessage(
            f"checkin:{people[1]}:2026-12-07",
            people[1],
            "checkin",
            NOW,
            [],
            skipped=True,
            note="paused nudges",
        )
    )
    messages.append(messages[0])  # the same key twice in one call: added once
    with Session(engine) as db:
        assert enqueue(db, messages[1]) is True  # one already there
        db.commit()
    with Session(engine) as db:
        assert enqueue_many(db, messages) == len(people)  # 4 + 1 - 1 already there
        db.commit()
    with Session(engine) as db:
        rows = {r.idempotency_key: r for r in db.exec(select(Outbound).order_by(col(Outbound.id)))}
        assert enqueue_many(db, messages) == 0  # a repeat writes nothing
    assert len(rows) == len(people) + 1
    kickoff = rows[f"campaign:growth:kickoff:{people[2]}"]
    assert kickoff.person_id == people[2]
    assert kickoff.kind == "campaign"
    assert kickoff.payload == payload
    assert kickoff.state == OutboxState.PENDING and kickoff.attempts == 0
    assert kickoff.not_before == local and kickoff.not_before.tzinfo is not None
    assert kickoff.created_at == local
    assert kickoff.not_after == NOW + timedelta(days=1)
    assert (kickoff.campaign_id, kickoff.campaign_step) == (campaign, "kickoff")
    assert kickoff.last_error is None and kickoff.channel is None and kickoff.sent_at is None
    skipped = rows[f"checkin:{people[1]}:2026-12-07"]
    assert skipped.state == OutboxState.SKIPPED and skipped.last_error == "paused nudges"
    assert skipped.payload == [] and skipped.campaign_id is None and skipped.not_after is None


def test_thousands_at_once_are_counted_right(engine) -> None:
    people, campaign = _people(engine, 50)
    messages = [
        OutboxMessage(
            f"campaign:growth:{step}:{person}",
            person,
            "campaign",
            NOW,
            [{"kind": "say", "text": f"{step} for {person}"}],
            campaign_id=campaign,
            campaign_step="s",
        )
        for person in people
        for step in range(250)  # 12,500 rows: several chunks on PostgreSQL
    ]
    with Session(engine) as db:
        assert enqueue_many(db, messages[:100]) == 100
        assert enqueue_many(db, messages) == len(messages) - 100
        db.commit()
    with Session(engine) as db:
        texts = db.exec(select(Outbound.idempotency_key, Outbound.payload)).all()
    assert len(texts) == len(messages)
    last = messages[-1]
    assert dict(texts)[last.key] == last.payload
