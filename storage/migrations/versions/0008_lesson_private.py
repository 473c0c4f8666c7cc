"""experiment.lesson_private: the lesson of a shared experiment can stay private

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

An experiment is written in parts at different times: what and why when it is planned, what it
taught and what to keep doing when it is done. Shared when it was planned, its lesson can now
be kept private (the manager sees the experiment, not the lesson). Existing rows keep showing
what they showed (false).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lesson_private", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_column("lesson_private")
