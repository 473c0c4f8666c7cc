"""Several workers claiming from one outbox never take the same message (PostgreSQL's
``FOR UPDATE SKIP LOCKED``); run on SQLite too, where claims serialise."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import Session, select

from storage.db import session_scope
from storage.models import Outbound, Person
from storage.outbox import OutboxMessage, claim_due, enqueue

NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)


def test_concurrent_claims_take_each_row_once(any_engine) -> None:
    with Session(any_engine) as db:
        person = Person(email="a@example.com", name="A")
        db.add(person)
        db.flush()
        for n in range(300):
            enqueue(db, OutboxMessage(f"k{n}", person.id, "checkin", NOW, []))
        db.commit()
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with session_scope(any_engine) as db:
                rows = claim_due(db, now=NOW, limit=7)
                ids = [row.id for row in rows]
            if not ids:
                return
            with lock:
                taken.extend(ids)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(taken) == 300
    assert max(Counter(taken).values()) == 1
    with Session(any_engine) as db:
        assert {row.state for row in db.exec(select(Outbound))} == {"sending"}
