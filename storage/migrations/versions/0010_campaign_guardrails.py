"""campaign guardrails: campaign authors and their audience scope; each launch as previewed,
with its approval by a second person

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

``campaign_launch.state`` is checked like every column of a fixed set of values.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATES = ("pending", "approved", "launched", "declined", "superseded")


def upgrade() -> None:
    op.create_table(
        "campaign_author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )
    allowed = ", ".join(f"'{state}'" for state in STATES)
    op.create_table(
        "campaign_launch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"state IN ({allowed})", name="ck_campaign_launch_state"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaign_launch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_launch_slug"), ["slug"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_launch_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_launch_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_launch_decided_by_id"), ["decided_by_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_launch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_launch_decided_by_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_launch_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_launch_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_launch_slug"))
    op.drop_table("campaign_launch")
    op.drop_table("campaign_author")
