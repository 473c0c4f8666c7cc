"""One message type from decision to delivery: what ``enqueue_many`` writes is what
``claim_due`` gives back, with the row's id and attempt filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from storage.db import session_scope
from storage.models import Campaign, Outbound, OutboxState, Person
from storage.outbox import OutboxMessage, claim_due, enqueue, enqueue_many

NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
PAYLOAD = [{"type": "say", "text": "Hello"}]


def test_a_claimed_message_is_the_message_that_was_enqueued(any_engine) -> None:
    with Session(any_engine) as db:
        person = Person(email="a@example.com", name="A")
        campaign = Campaign(slug="growth-week", name="G", spec_hash="h")
        db.add_all([person, campaign])
        db.flush()
        assert person.id is not None and campaign.id is not None
        step = OutboxMessage(
            f"campaign:growth-week:kickoff:{person.id}",
            person.id,
            "campaign",
            NOW - timedelta(minutes=5),
            PAYLOAD,
            campaign_id=campaign.id,
            campaign_step="kickoff",
        )
        paused = OutboxMessage(
            f"campaign:growth-week:kickoff:{person.id}:again",
            person.id,
            "campaign",
            NOW,
            [],
            skipped=True,
            note="paused nudges",
            campaign_id=campaign.id,
            campaign_step="kickoff",
        )
        assert enqueue_many(db, [step, paused]) == 2
        assert not enqueue(db, step)  # the key makes a repeat a no-op
        db.commit()
        rows = {row.idempotency_key: row for row in db.exec(select(Outbound))}
    assert rows[step.key].state is OutboxState.PENDING
    assert rows[step.key].campaign_step == "kickoff"
    assert rows[paused.key].state is OutboxState.SKIPPED
    assert rows[paused.key].last_error == "paused nudges"

    with session_scope(any_engine) as db:
        [claimed] = claim_due(db, now=NOW)
    assert claimed.id == rows[step.key].id
    assert claimed.attempts == 1
    assert claimed.created_at == step.due
    assert claimed.due == NOW  # while sending: when it was claimed
    assert (claimed.key, claimed.person_id, claimed.kind, claimed.payload) == (
        step.key,
        step.person_id,
        step.kind,
        step.payload,
    )
    assert (claimed.campaign_id, claimed.campaign_step, claimed.note) == (
        step.campaign_id,
        "kickoff",
        None,
    )
