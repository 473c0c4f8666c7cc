"""one_time_link: single-use, expiring links (downloads of one's data, sign-in on the web)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Only the SHA-256 of each link's token is stored. ``purpose`` is checked like every column of a
fixed set of values.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PURPOSES = ("download_json", "download_page", "sign_in")


def upgrade() -> None:
    allowed = ", ".join(f"'{purpose}'" for purpose in PURPOSES)
    op.create_table(
        "one_time_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"purpose IN ({allowed})", name="ck_one_time_link_purpose"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("one_time_link", schema=None) as batch_op:
        batch_op.create_index(
            "ix_one_time_link_issued", ["person_id", "purpose", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("one_time_link", schema=None) as batch_op:
        batch_op.drop_index("ix_one_time_link_issued")
    op.drop_table("one_time_link")
