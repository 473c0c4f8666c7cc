"""Shared fixtures: real databases, migrated with Alembic.

``engine`` is a SQLite file; ``any_engine`` runs a test on SQLite and on PostgreSQL. PostgreSQL
needs ``REGIE_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it); without it those
cases skip with a visible reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get("REGIE_TEST_POSTGRES_URL", "")


def _reset_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return engine


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'regie.db'}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set REGIE_TEST_POSTGRES_URL (.ci/run does)")
    _reset_postgres(POSTGRES_URL).dispose()
    return POSTGRES_URL


@pytest.fixture
def any_engine(any_db_url: str) -> Iterator[Engine]:
    eng = make_engine(any_db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
