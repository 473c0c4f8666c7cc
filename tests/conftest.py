"""Shared fixtures: real databases, migrated with Alembic — every storage test on both.

``db_url`` (and ``engine`` on it) is parametrised over SQLite and PostgreSQL, so any test that
touches storage runs on both databases, the way people run Regie. PostgreSQL needs
``REGIE_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it); without it those cases
skip with a visible reason, and ``.ci/run`` fails if they skip while it is set.

Speed: the schema is migrated once per test process, not once per test. SQLite tests get a copy
of a migrated template file; PostgreSQL tests share one database per pytest-xdist worker
(``<name>_gw0``…), emptied with one ``TRUNCATE`` before each test. ``fresh_db_url`` gives an
empty database for the tests of the migrations themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from storage.db import dispose_engines, make_engine
from storage.migrate import upgrade

pytest_plugins = ["tests.database_counts", "tests.browser", "tests.bot.campaign_files"]

POSTGRES_URL = os.environ.get("REGIE_TEST_POSTGRES_URL", "")
DATABASES = ("sqlite", "postgresql")
NO_POSTGRES = "PostgreSQL not configured: set REGIE_TEST_POSTGRES_URL (.ci/run does)"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _worker_postgres_url(worker: str) -> str:
    """This worker's own database next to the configured one, created if missing (from the
    server's maintenance database, so the configured one need not exist)."""
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{worker}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _empty_schema(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, str]:
    """Per test process: a migrated SQLite template file and, when configured, a migrated
    PostgreSQL database of this worker's own."""
    template = tmp_path_factory.mktemp("template") / "regie.db"
    engine = make_engine(sqlite_url(template))
    upgrade(engine)
    engine.dispose()
    migrated = {"sqlite": str(template)}
    if POSTGRES_URL:
        url = _worker_postgres_url(worker_id)
        _empty_schema(url)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        migrated["postgresql"] = url
    return migrated


def _truncate_all(url: str) -> None:
    """Empty every table but Alembic's; connections left by an earlier test are ended first,
    so nothing they hold can block (or leak into) this test."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        quoted = ", ".join(f'"{t}"' for t in tables)
        connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated: dict[str, str]
) -> Iterator[str]:
    """A migrated, empty database: a SQLite file in ``tmp_path``, or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "regie.db"
        shutil.copyfile(_migrated["sqlite"], path)
        yield sqlite_url(path)
    else:
        if "postgresql" not in _migrated:
            pytest.skip(NO_POSTGRES)
        _truncate_all(_migrated["postgresql"])
        yield _migrated["postgresql"]
    dispose_engines()  # engines the code under test cached for this URL


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(params=DATABASES)
def fresh_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated: dict[str, str]
) -> Iterator[str]:
    """An empty database with no schema at all, for the tests of the migrations."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "fresh.db")
    else:
        if "postgresql" not in _migrated:
            pytest.skip(NO_POSTGRES)
        url = _migrated["postgresql"]
        _truncate_all(url)  # ends other connections
        _empty_schema(url)
        yield url
        dispose_engines()
        _empty_schema(url)  # migrated again for the tests after this one
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()


# The names the tests used before every storage test ran on both databases.
@pytest.fixture
def any_db_url(db_url: str) -> str:
    return db_url


@pytest.fixture
def any_engine(engine: Engine) -> Engine:
    return engine
