"""The Teams cards Regie sent (storage/teams_cards.py), on SQLite and PostgreSQL: settled once
(the first settle or press wins, a press whose process died lapses), the cards asking a
person's latest question, and gone with the person or after the retention period."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import teams_cards
from storage.db import session_scope
from storage.models import Person, TeamsCard
from storage.personal_data import export_person, forget_person

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
CHAT = "a:personal-ann"


def person(engine: Engine, email: str = "ann@example.com") -> int:
    with Session(engine) as db:
        row = Person(email=email, name="Ann")
        db.add(row)
        db.commit()
        assert row.id is not None
        return row.id


def card(text: str) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": text}]}


def prompt(seq: int) -> dict[str, Any]:
    return {"kind": "confirm", "text": "Sure?", "session_id": 1, "step": "sure", "seq": seq}


def remember(
    engine: Engine, person_id: int, activity_id: str, *, asks: int | None = None, now=NOW
) -> None:
    with session_scope(engine) as db:
        teams_cards.remember(
            db,
            conversation_id=CHAT,
            activity_id=activity_id,
            person_id=person_id,
            card=card(f"card {activity_id}"),
            prompt=prompt(asks) if asks is not None else None,
            now=now,
        )


def find(engine: Engine, activity_id: str, conversation: str = CHAT) -> TeamsCard | None:
    with Session(engine) as db:
        return teams_cards.find(db, conversation, activity_id)


def test_a_card_is_kept_as_sent_by_conversation_and_activity_id(engine: Engine) -> None:
    ann = person(engine)
    remember(engine, ann, "1:a", asks=3)
    found = find(engine, "1:a")
    assert found is not None
    assert (found.person_id, found.card, found.prompt) == (ann, card("card 1:a"), prompt(3))
    assert (found.settled, found.shown, found.asking, found.created_at) == (False, None, True, NOW)
    assert find(engine, "1:a", conversation="a:personal-bob") is None  # ids are per conversation


def test_only_the_first_settle_wins(engine: Engine) -> None:
    ann = person(engine)
    remember(engine, ann, "1:a", asks=3)
    with session_scope(engine) as db:
        assert teams_cards.settle(db, CHAT, "1:a", card("✓ yes")) is True
        assert teams_cards.settle(db, CHAT, "1:a", card("closed")) is False
        assert teams_cards.settle(db, CHAT, "unknown", card("closed")) is False
    found = find(engine, "1:a")
    assert found is not None and (found.settled, found.shown, found.asking) == (
        True,
        card("✓ yes"),
        False,
    )


def test_of_two_presses_at_once_only_one_runs_its_turn(engine: Engine) -> None:
    """Two replicas pressing the same card in parallel, each in a transaction of its own."""
    ann = person(engine)
    remember(engine, ann, "1:a", asks=3)
    start = threading.Barrier(2)
    won: list[bool] = []

    def press(label: str) -> None:
        start.wait(timeout=10)
        with session_scope(engine) as db:
            won.append(teams_cards.press(db, CHAT, "1:a", card(label), now=NOW, lease=LEASE))

    threads = [threading.Thread(target=press, args=(f"✓ {n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(won) == [False, True]
    found = find(engine, "1:a")
    assert found is not None and found.settled and found.pressed_at == NOW


def test_a_press_ends_settled_or_open_again_and_a_dead_press_lapses(engine: Engine) -> None:
    ann = person(engine)
    remember(engine, ann, "1:a", asks=3)
    with session_scope(engine) as db:
        assert teams_cards.press(db, CHAT, "1:a", card("✓ maybe"), now=NOW, lease=LEASE)
        teams_cards.finish(db, CHAT, "1:a", None)  # the answer did not fit: asked again
    reopened = find(engine, "1:a")
    assert reopened is not None and (reopened.settled, reopened.shown) == (False, None)
    assert reopened.asking and reopened.pressed_at is None

    with session_scope(engine) as db:
        assert teams_cards.press(db, CHAT, "1:a", card("✓ yes"), now=NOW, lease=LEASE)
    later = NOW + LEASE - timedelta(seconds=1)
    with session_scope(engine) as db:  # still running: no other press runs
        assert not teams_cards.press(db, CHAT, "1:a", card("✓ no"), now=later, lease=LEASE)
    with session_scope(engine) as db:  # its process died: the next press runs after all
        assert teams_cards.press(db, CHAT, "1:a", card("✓ no"), now=NOW + LEASE, lease=LEASE)
        teams_cards.finish(db, CHAT, "1:a", card("✓ no"))
    done = find(engine, "1:a")
    assert done is not None and (done.settled, done.shown, done.pressed_at) == (
        True,
        card("✓ no"),
        None,
    )
    with session_scope(engine) as db:  # finished: never pressed again, however late
        assert not teams_cards.press(
            db, CHAT, "1:a", card("✓ yes"), now=NOW + 10 * LEASE, lease=LEASE
        )
        teams_cards.finish(db, CHAT, "1:a", None)  # a late "open again" changes nothing
    assert find(engine, "1:a") == done


def test_the_cards_asking_the_latest_question(engine: Engine) -> None:
    ann, bob = person(engine), person(engine, "bob@example.com")
    remember(engine, ann, "1:a", asks=3)
    remember(engine, ann, "1:b")  # a card without a question changes nothing
    remember(engine, ann, "1:c", asks=3)  # the same question asked again
    remember(engine, bob, "1:x", asks=3)
    with Session(engine) as db:
        assert [c.activity_id for c in teams_cards.asking(db, ann)] == ["1:a", "1:c"]
    remember(engine, ann, "1:d", asks=4)  # a new question: the older cards no longer ask
    with Session(engine) as db:
        assert [c.activity_id for c in teams_cards.asking(db, ann)] == ["1:d"]
    remember(engine, ann, "1:e", asks=4)
    with session_scope(engine) as db:
        teams_cards.settle(db, CHAT, "1:d", card("✓ yes"))  # pressed: settled already
        assert [c.activity_id for c in teams_cards.stop_asking(db, ann)] == ["1:e"]
    with Session(engine) as db:
        assert teams_cards.asking(db, ann) == []
        assert [c.activity_id for c in teams_cards.asking(db, bob)] == ["1:x"]


def test_export_lists_the_cards_and_forget_removes_them(engine: Engine) -> None:
    ann, bob = person(engine), person(engine, "bob@example.com")
    remember(engine, ann, "1:a", asks=3)
    remember(engine, ann, "1:b", now=NOW + timedelta(minutes=1))
    remember(engine, bob, "1:x")
    with session_scope(engine) as db:
        teams_cards.settle(db, CHAT, "1:a", card("✓ yes"))
    with Session(engine) as db:
        data = export_person(db, db.get(Person, ann), now=NOW)  # type: ignore[arg-type]
    assert data["teams_card"] == [
        {
            "sent_at": NOW.isoformat(),
            "card": card("card 1:a"),
            "settled": True,
            "shown": card("✓ yes"),
        },
        {
            "sent_at": (NOW + timedelta(minutes=1)).isoformat(),
            "card": card("card 1:b"),
            "settled": False,
            "shown": None,
        },
    ]
    with session_scope(engine) as db:
        forget_person(db, db.get(Person, ann))  # type: ignore[arg-type]
    with Session(engine) as db:
        assert [c.activity_id for c in db.exec(select(TeamsCard))] == ["1:x"]


def test_retention_deletes_the_cards_sent_before_the_cutoff(engine: Engine) -> None:
    ann = person(engine)
    remember(engine, ann, "1:old", now=NOW - timedelta(days=31))
    remember(engine, ann, "1:new", now=NOW - timedelta(days=29))
    with session_scope(engine) as db:
        assert teams_cards.prune(db, before=NOW - timedelta(days=30)) == 1
    with Session(engine) as db:
        assert [c.activity_id for c in db.exec(select(TeamsCard))] == ["1:new"]


def sent(person_id: int, activity_id: str, *, asks: int | None = None) -> teams_cards.SentCard:
    return teams_cards.SentCard(
        conversation_id=CHAT,
        activity_id=activity_id,
        person_id=person_id,
        card=card(f"card {activity_id}"),
        prompt=prompt(asks) if asks is not None else None,
        created_at=NOW,
    )


def test_cards_sent_at_once_are_kept_in_one_go_in_the_order_they_went(engine: Engine) -> None:
    ann, bob = person(engine), person(engine, "bob@example.com")
    remember(engine, ann, "1:before", asks=1)
    remember(engine, bob, "2:before", asks=1)
    with session_scope(engine) as db:
        teams_cards.remember_all(
            db,
            [
                sent(ann, "1:a", asks=2),
                sent(ann, "1:b"),  # asks nothing: the question of 1:a stays open
                sent(ann, "1:c", asks=3),  # asked anew: 1:a no longer asks
                sent(ann, "1:d", asks=3),  # the same question again: both ask it
            ],
        )
    with Session(engine) as db:
        asking = {c.activity_id: c.asking for c in db.exec(select(TeamsCard))}
        assert [c.activity_id for c in teams_cards.asking(db, ann)] == ["1:c", "1:d"]
        assert [c.activity_id for c in teams_cards.asking(db, bob)] == ["2:before"]
    assert asking == {
        "1:before": False,
        "2:before": True,
        "1:a": False,
        "1:b": False,
        "1:c": True,
        "1:d": True,
    }
    found = find(engine, "1:b")
    assert found is not None and (found.card, found.prompt, found.created_at) == (
        card("card 1:b"),
        None,
        NOW,
    )
