"""The engine's connection settings (storage/db.py): on SQLite WAL, foreign keys and
``synchronous`` as ``REGIE_SQLITE_SYNCHRONOUS`` says (FULL unless asked otherwise); on
PostgreSQL the setting changes nothing. Through ``bot/wiring.py`` as ``regie serve`` and
``regie chat`` get their engine."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import Settings
from bot.wiring import engine_for
from storage.db import dispose_engines, get_engine, make_engine
from storage.models import Person

SYNCHRONOUS = {"full": 2, "normal": 1}
"""What ``PRAGMA synchronous`` reads back."""


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.execute(text(f"PRAGMA {name}")).scalar()


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_every_connection_gets_the_synchronous_setting_and_a_commit_is_read_back(
    db_url: str, synchronous: str
) -> None:
    engine = make_engine(db_url, sqlite_synchronous=synchronous)  # type: ignore[arg-type]
    try:
        with Session(engine) as db:
            db.add(Person(email="kim@example.com", name="Kim"))
            db.commit()
        if engine.dialect.name == "sqlite":
            assert pragma(engine, "synchronous") == SYNCHRONOUS[synchronous]
            assert pragma(engine, "journal_mode") == "wal"
            assert pragma(engine, "foreign_keys") == 1
        else:  # PostgreSQL's own durability is untouched
            with engine.connect() as connection:
                assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
    finally:
        engine.dispose()
    other = make_engine(db_url)  # another process's engine sees the committed row
    try:
        with Session(other) as db:
            assert [p.email for p in db.exec(select(Person))] == ["kim@example.com"]
    finally:
        other.dispose()


def test_the_default_is_full_and_the_setting_reaches_the_chat_engine(db_url: str) -> None:
    try:
        default = get_engine(db_url)
        normal = engine_for(
            Settings(_env_file=None, database_url=db_url, sqlite_synchronous="normal")  # type: ignore[call-arg]
        )
        assert engine_for(Settings(_env_file=None, database_url=db_url)) is default  # type: ignore[call-arg]
        assert normal is not default
        if default.dialect.name == "sqlite":
            assert pragma(default, "synchronous") == SYNCHRONOUS["full"]
            assert pragma(normal, "synchronous") == SYNCHRONOUS["normal"]
        else:
            with normal.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        dispose_engines()


def test_an_unknown_synchronous_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of full, normal"):
        make_engine("sqlite:///:memory:", sqlite_synchronous="off")  # type: ignore[arg-type]
