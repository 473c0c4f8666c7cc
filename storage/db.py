"""Engine and session creation.

SQLite is the embedded default: WAL journal so readers never block the writer, foreign keys on
(SQLite leaves them off per connection), ``synchronous=FULL`` so every committed turn is on
disk before the bot answers, and ``secure_delete`` so a deleted or overwritten row (a person
forgotten, an item past its retention) leaves no copy in the file's free space. PostgreSQL is
the production store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

_engines: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver we ship with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted text is zeroed, not left in free pages
    cursor.close()


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with the pragmas and pool settings Regie relies on."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def get_engine(url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    key = normalise_url(url)
    if key not in _engines:
        _engines[key] = make_engine(key)
    return _engines[key]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def insert_if_new(
    db: Session, model: type[SQLModel], *, unique: str | Sequence[str], **values: Any
) -> bool:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in one statement, on SQLite and PostgreSQL:
    True when the row is new. De-duplication without a read first, and race-free."""
    return insert_many_if_new(db, model, unique=unique, rows=[values]) == 1


def insert_many_if_new(
    db: Session,
    model: type[SQLModel],
    *,
    unique: str | Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """``insert_if_new`` for many rows in one round trip; how many were new.

    New rows are counted from what ``RETURNING`` gives back, never from ``rowcount``: drivers
    disagree on it for ``ON CONFLICT DO NOTHING`` (psycopg 3.3 reports -1, sqlite3 sums an
    executemany), and a wrong count here makes every chat turn look like a redelivery."""
    if not rows:
        return 0
    dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
    columns = [unique] if isinstance(unique, str) else list(unique)
    key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
    statement = dialect.insert(model).on_conflict_do_nothing(index_elements=columns).returning(key)
    result = db.connection().execute(statement, [dict(r) for r in rows])
    return len(result.all())


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
