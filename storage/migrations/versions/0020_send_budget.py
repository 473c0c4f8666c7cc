"""send budget: a platform's send budget shared by the processes delivering the outbox

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

``send_budget`` (one row per platform) holds the moment from which the platform's send slots are
still free; each delivery pass takes its slots from it (``storage/send_budget.py``), so several
replicas together never send faster than the platform's limit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("free_from", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
