"""teams_team: the Teams teams Regie was added to, for the stories channel

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

Per team: its id (its General channel's), its Microsoft 365 group, its name and a conversation
reference without the person who added Regie, so a story can be posted in one of its channels.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_team",
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("aad_group_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    with op.batch_alter_table("teams_team", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_team_aad_group_id"), ["aad_group_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("teams_team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_team_aad_group_id"))
    op.drop_table("teams_team")
