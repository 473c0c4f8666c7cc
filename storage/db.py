"""Engine and session creation.

SQLite is the embedded default: WAL journal so readers never block the writer, foreign keys on
(SQLite leaves them off per connection), ``synchronous=FULL`` so every committed turn is on
disk before the bot answers, and ``secure_delete`` so a deleted or overwritten row (a person
forgotten, an item past its retention) leaves no copy in the file's free space. PostgreSQL is
the production store.

``synchronous=NORMAL`` (``REGIE_SQLITE_SYNCHRONOUS=normal``) is the deployment's choice of speed
over the last turns: in WAL mode a commit then no longer waits for the disk (the WAL is synced
at checkpoints). A committed turn still survives the process dying; a power cut or an OS crash
may lose the turns committed since the last checkpoint, whose replies were already sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Column, Text, bindparam, cast, column, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

_engines: dict[tuple[str, str], Engine] = {}


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver we ship with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


Synchronous = Literal["full", "normal"]
"""SQLite's ``synchronous`` in WAL mode: ``full`` (every commit waits for the disk) or
``normal`` (a commit survives the process dying, not a power cut; see the module's note)."""
SYNCHRONOUS: tuple[Synchronous, ...] = get_args(Synchronous)


def _sqlite_pragmas(synchronous: Synchronous) -> Callable[[Any, Any], None]:
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous={synchronous!r}: expected one of {', '.join(SYNCHRONOUS)}")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted text is zeroed, not left in free pages
        cursor.close()

    return on_connect


def make_engine(url: str, *, sqlite_synchronous: Synchronous = "full") -> Engine:
    """A new engine for ``url`` with the pragmas and pool settings Regie relies on;
    ``sqlite_synchronous`` applies to a SQLite file only."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def get_engine(url: str, *, sqlite_synchronous: Synchronous = "full") -> Engine:
    """One engine per URL (and ``synchronous`` setting) per process (engines own connection
    pools)."""
    key = normalise_url(url)
    if (key, sqlite_synchronous) not in _engines:
        _engines[key, sqlite_synchronous] = make_engine(key, sqlite_synchronous=sqlite_synchronous)
    return _engines[key, sqlite_synchronous]


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
    if dialect is postgresql and len(rows) > 1:
        return _insert_from_json(db, model, columns, key, rows)
    statement = dialect.insert(model).on_conflict_do_nothing(index_elements=columns).returning(key)
    result = db.connection().execute(statement, [dict(r) for r in rows])
    return len(result.all())


_JSON_ROWS = 1000
"""Rows per statement on PostgreSQL, where the rows travel as one JSON document (small enough
for the server to keep it in memory)."""


def _insert_from_json(
    db: Session,
    model: type[SQLModel],
    columns: list[str],
    key: Any,
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """PostgreSQL: ``INSERT … SELECT … FROM json_to_recordset(:rows) … ON CONFLICT DO NOTHING``
    per chunk of rows. The rows are one JSON parameter, typed by the table's own columns, so a
    chunk of thousands is one short statement: with a placeholder per value (insertmanyvalues)
    the driver spends most of a large insert parsing the statement's text."""
    table = model.__table__  # type: ignore[attr-defined]
    names = sorted({name for row in rows for name in row})
    typed = [table.c[name] for name in names]
    dialect = db.get_bind().dialect
    stored = [_as_stored(c, dialect) for c in typed]

    def document(chunk: Sequence[Mapping[str, Any]]) -> str:
        values = [{n: f(row.get(n)) for n, f in zip(names, stored, strict=True)} for row in chunk]
        return json.dumps(values, default=_json_value)

    source = (
        func.json_to_recordset(cast(bindparam("rows", type_=Text), JSON))
        .table_valued(*(column(c.name, c.type) for c in typed))
        .render_derived(name="new_rows", with_types=True)
    )
    statement = (
        postgresql.insert(model)
        .from_select(names, select(*(source.c[name] for name in names)))
        .on_conflict_do_nothing(index_elements=columns)
        .returning(key)
    )
    added = 0
    for start in range(0, len(rows), _JSON_ROWS):
        written = document(rows[start : start + _JSON_ROWS])
        added += len(db.connection().execute(statement, {"rows": written}).all())
    return added


def _as_stored(c: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """How a value of the column is stored (an enum as its value, a time in UTC: its type's
    own conversion); a JSON column's value goes as it is, nested in the document."""
    if isinstance(c.type, TypeDecorator) and not isinstance(c.type, JSON):
        convert = c.type.process_bind_param
        return lambda value: convert(value, dialect)
    return lambda value: value


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot insert {type(value).__name__} through json_to_recordset")


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
