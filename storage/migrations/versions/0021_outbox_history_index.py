"""outbox history index: the nudge rules' history per person from one covering index

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

``ix_outbound_history`` (person, moment; on PostgreSQL also kind and state, and only rows of
no campaign): the due-nudge tick aggregates a year of each person's nudges — a million rows
for 100,000 people — in person order from the index alone, without sorting or reading the
rows themselves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbound_history",
            ["person_id", "created_at"],
            unique=False,
            postgresql_include=["kind", "state"],
            postgresql_where=sa.text("campaign_id IS NULL"),
            sqlite_where=sa.text("campaign_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_history")
