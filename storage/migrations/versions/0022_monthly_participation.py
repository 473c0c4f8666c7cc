"""monthly participation: answers and check-ins carry their month, counted from an index

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

``created_month`` (``YYYY-MM`` of ``created_at`` in UTC) on ``answer`` and ``check_in``, filled
in for the rows there are, and ``ix_<table>_monthly`` (in_aggregates, month, person, moment):
HR's participation report counts the people who reflected or checked in per month from the
index alone, without sorting every row by a month computed from its timestamp (10,000 people,
125,000 answers on SQLite: 160 ms → 31 ms per figure). ``ix_experiment_aggregates`` gains
``done_at``, so the experiments done this year are counted from it too (100 ms → 25 ms).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("answer", "check_in")


def _month(dialect: str) -> str:
    if dialect == "postgresql":
        return "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    return "substr(created_at, 1, 7)"  # SQLite keeps UTC moments as ISO text


def upgrade() -> None:
    month = _month(op.get_bind().dialect.name)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("created_month", sa.String(length=7), nullable=True))
        op.execute(f"UPDATE {table} SET created_month = {month}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "created_month", existing_type=sa.String(length=7), nullable=False
            )
            batch_op.create_index(
                f"ix_{table}_monthly",
                ["in_aggregates", "created_month", "person_id", "created_at"],
                unique=False,
            )
    _experiment_index(["in_aggregates", "status", "person_id", "done_at"])


def _experiment_index(columns: list[str]) -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_aggregates")
        batch_op.create_index("ix_experiment_aggregates", columns, unique=False)


def downgrade() -> None:
    _experiment_index(["in_aggregates", "status", "person_id"])
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_monthly")
            batch_op.drop_column("created_month")
