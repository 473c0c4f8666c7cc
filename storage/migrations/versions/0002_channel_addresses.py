"""channel addresses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "channel", name="uq_channel_address"),
    )
    with op.batch_alter_table("channel_address", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_address_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_address_person_id"))

    op.drop_table("channel_address")
