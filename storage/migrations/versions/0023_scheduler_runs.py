"""scheduler runs: the last run of each job, known to every replica

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

``scheduler_run`` (job, when, the error's type, which process): written by the one process
that schedules after each run, read by the administrators' health page on any replica (before,
only the scheduling process knew its runs).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_run",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_run")
