"""teams_card: the cards Regie sent in Teams, shared by every replica

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

Each card as sent and as it shows once settled, by conversation and activity id, so a card is
settled keeping its text after a restart or on another replica, and settled once.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("activity_id", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=True),
        sa.Column("asking", sa.Boolean(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("shown", sa.JSON(), nullable=True),
        sa.Column("pressed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "activity_id", name="uq_teams_card_activity"),
    )
    with op.batch_alter_table("teams_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_card_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_teams_card_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_card_created_at"))
        batch_op.drop_index(batch_op.f("ix_teams_card_person_id"))
    op.drop_table("teams_card")
