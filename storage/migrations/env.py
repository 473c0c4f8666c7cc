"""Alembic environment: runs against the engine handed over by :mod:`storage.migrate`.

On SQLite, batch mode changes a table by copying it, dropping the old one and renaming the
copy. With foreign keys enforced, that drop would first delete every row of the table, and
``ON DELETE CASCADE`` every row that refers to it (dropping ``person`` would empty the
database). So foreign keys are off while migrations run (the pragma only takes effect outside
a transaction), checked before the migrations commit, and on again afterwards — also when a
migration fails, since the connection goes back to the pool.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"migrations left rows with dangling foreign keys: {broken}")
    connection.commit()


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            _migrate(connection)
            return
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            _migrate(connection)
        finally:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


run_migrations_online()
