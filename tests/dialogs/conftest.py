from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.engine.content import load_content
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage.models import Person
from tests.dialogs.transcript import Transcript

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(engine: Engine, clock: Clock) -> Runtime:
    return Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=clock)


def add_person(
    engine: Engine, email: str, *, language: str = "en", welcomed: bool = True, **fields: object
) -> int:
    with Session(engine) as db:
        person = Person(
            email=email,
            name=fields.pop("name", email.split("@")[0].capitalize()),  # type: ignore[arg-type]
            language=language,
            welcomed_at=NOW if welcomed else None,
            **fields,
        )
        db.add(person)
        db.commit()
        assert person.id is not None
        return person.id


@pytest.fixture
def person(engine: Engine) -> Callable[..., int]:
    def make(email: str = "sam@example.com", **fields: object) -> int:
        return add_person(engine, email, **fields)

    return make


@pytest.fixture
def chat(runtime: Runtime, person: Callable[..., int]) -> Callable[..., Transcript]:
    def start(
        language: str = "en",
        *,
        welcomed: bool = True,
        email: str = "sam@example.com",
        **fields: object,
    ) -> Transcript:
        return Transcript(runtime, person(email, language=language, welcomed=welcomed, **fields))

    return start
