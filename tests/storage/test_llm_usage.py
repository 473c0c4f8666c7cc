"""Token use per month and feature, and consent history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage.consent import consented, current_consent, record_consent
from storage.llm_usage import month_of, record_usage, tokens_used, usage_totals
from storage.models import ConsentKind, Person
from storage.personal_data import export_person, forget_person

NOV = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)


def test_usage_adds_up_per_month_and_feature(any_engine) -> None:
    with Session(any_engine) as db:
        for feature, prompt, completion, at in [
            ("follow_up", 100, 10, NOV),
            ("follow_up", 50, 5, NOV - timedelta(days=3)),
            ("summary", 400, 200, NOV),
            ("follow_up", 7, 1, NOV + timedelta(minutes=2)),  # December (UTC)
        ]:
            record_usage(
                db, feature=feature, prompt_tokens=prompt, completion_tokens=completion, now=at
            )
        db.commit()
        assert tokens_used(db, "2026-11") == 765
        assert tokens_used(db, "2026-12") == 8
        assert tokens_used(db, "2027-01") == 0
        totals = [(t.month, t.feature, t.requests, t.tokens) for t in usage_totals(db)]
    assert totals == [
        ("2026-12", "follow_up", 1, 8),
        ("2026-11", "follow_up", 2, 165),
        ("2026-11", "summary", 1, 600),
    ]
    assert month_of(NOV) == "2026-11"


def test_the_latest_consent_holds_and_goes_with_the_person(any_engine) -> None:
    with Session(any_engine) as db:
        people = [Person(email=f"p{n}@example.com", name=f"P{n}") for n in range(3)]
        db.add_all(people)
        db.flush()
        a, b, c = (p.id for p in people)
        assert a is not None and b is not None and c is not None
        assert current_consent(db, a, ConsentKind.AI) is None
        record_consent(db, a, ConsentKind.AI, granted=True, now=NOV)
        record_consent(db, a, ConsentKind.AI, granted=False, now=NOV + timedelta(days=1))
        record_consent(db, b, ConsentKind.AI, granted=False, now=NOV)
        record_consent(db, b, ConsentKind.AI, granted=True, now=NOV + timedelta(days=1))
        record_consent(db, c, ConsentKind.PRIVACY_NOTICE, granted=True, now=NOV)
        assert current_consent(db, a, ConsentKind.AI) is False
        assert current_consent(db, b, ConsentKind.AI) is True
        assert consented(db, [a, b, c], ConsentKind.AI) == {b}
        assert consented(db, [], ConsentKind.AI) == set()
        exported = export_person(db, people[1])
        assert [r["granted"] for r in exported["consent_record"]] == [False, True]
        forget_person(db, people[1])
        assert current_consent(db, b, ConsentKind.AI) is None
        db.commit()
