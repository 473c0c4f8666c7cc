"""Cards sent at the same time are stored together (bot/channels/teams/sent.py), on SQLite and
PostgreSQL: one transaction for all of them, each sender told once its card is stored, and a
card that cannot be stored fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.channels.teams.sent import SentCards
from dialogs.engine.replies import TextPrompt
from storage import teams_cards
from storage.models import Person, TeamsCard

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def person(engine: Engine, email: str) -> int:
    with Session(engine) as db:
        row = Person(email=email, name=email.split("@")[0])
        db.add(row)
        db.commit()
        assert row.id is not None
        return row.id


def card(text: str) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": text}]}


def stored(engine: Engine) -> dict[str, tuple[int, bool]]:
    with Session(engine) as db:
        return {c.activity_id: (c.person_id, c.asking) for c in db.exec(select(TeamsCard))}


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The activity ids of every batch written, in order."""
    written: list[list[str]] = []
    remember_all = teams_cards.remember_all

    def counted(db: Session, cards: Sequence[teams_cards.SentCard]) -> None:
        written.append([c.activity_id for c in cards])
        remember_all(db, cards)

    monkeypatch.setattr(teams_cards, "remember_all", counted)
    return written


def test_cards_sent_at_once_are_stored_in_one_transaction(
    engine: Engine, batches: list[list[str]]
) -> None:
    people = [person(engine, f"p{n}@example.com") for n in range(5)]
    cards = SentCards(engine, clock=lambda: NOW)
    asks = TextPrompt("Your goal?", "Once more?", session_id=1, step="goal", seq=1)

    async def send_all() -> None:
        await asyncio.gather(
            *(
                cards.remember(f"a:{p}", p, f"1:{p}", card(f"hello {p}"), asks if n % 2 else None)
                for n, p in enumerate(people)
            )
        )
        # every sender was told once its card was stored
        assert stored(engine) == {f"1:{p}": (p, bool(n % 2)) for n, p in enumerate(people)}
        await cards.remember("a:later", people[0], "1:later", card("later"), None)

    asyncio.run(send_all())
    assert batches == [[f"1:{p}" for p in people], ["1:later"]]
    found = asyncio.run(cards.find(f"a:{people[1]}", f"1:{people[1]}"))
    assert found is not None and (found.sent, found.asking) == (card(f"hello {people[1]}"), True)


def test_a_card_that_cannot_be_stored_fails_alone(engine: Engine, batches: list[list[str]]) -> None:
    ann, bob = person(engine, "ann@example.com"), person(engine, "bob@example.com")
    cards = SentCards(engine, clock=lambda: NOW)
    asyncio.run(cards.remember("a:ann", ann, "1:a", card("first"), None))

    async def send_all() -> Sequence[BaseException | None]:
        return await asyncio.gather(
            cards.remember("a:ann", ann, "1:b", card("ok"), None),
            cards.remember("a:ann", ann, "1:a", card("the same id again"), None),
            cards.remember("a:bob", bob, "1:a", card("another chat"), None),
            return_exceptions=True,
        )

    results = asyncio.run(send_all())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError)
    assert batches[1:] == [["1:b", "1:a", "1:a"], ["1:b"], ["1:a"], ["1:a"]]
    with Session(engine) as db:
        rows = {(c.conversation_id, c.activity_id): c.card for c in db.exec(select(TeamsCard))}
    assert rows == {
        ("a:ann", "1:a"): card("first"),
        ("a:ann", "1:b"): card("ok"),
        ("a:bob", "1:a"): card("another chat"),
    }
