"""colleague feedback and success stories

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``feedback_request`` (someone asks 1–3 colleagues for feedback; private to them unless shared
with their manager) and ``feedback_ask`` (one colleague asked, and their answer); ``story`` (a
finished experiment told as a short story, shared with HR and/or in the stories channel only on
its author's say-so, withdrawable).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FEEDBACK_STATES = "'asked', 'later', 'answered', 'declined'"
STORY_STATES = "'shared', 'withdrawn'"
POST_STATES = "'pending', 'posted', 'failed', 'deleting', 'deleted', 'kept'"


def upgrade() -> None:
    op.create_table(
        "feedback_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("in_aggregates", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "visibility IN ('private', 'manager')", name="ck_feedback_request_visibility"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_request_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "feedback_ask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("colleague_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"state IN ({FEEDBACK_STATES})", name="ck_feedback_ask_state"),
        sa.ForeignKeyConstraint(["request_id"], ["feedback_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["colleague_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "colleague_id", name="uq_feedback_ask"),
    )
    with op.batch_alter_table("feedback_ask", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_ask_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_ask_colleague_id"), ["colleague_id"], unique=False
        )

    op.create_table(
        "story",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("tried", sa.Text(), nullable=False),
        sa.Column("learned", sa.Text(), nullable=False),
        sa.Column("for_hr", sa.Boolean(), nullable=False),
        sa.Column("in_channel", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("post_state", sa.String(length=16), nullable=True),
        sa.Column("post_channel", sa.String(length=16), nullable=True),
        sa.Column("post_ref", sa.JSON(), nullable=True),
        sa.Column("post_error", sa.Text(), nullable=True),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("post_attempts", sa.Integer(), nullable=False),
        sa.Column("post_after", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"state IN ({STORY_STATES})", name="ck_story_state"),
        sa.CheckConstraint(f"post_state IN ({POST_STATES})", name="ck_story_post_state"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiment.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_person_id"))
    op.drop_table("story")
    with op.batch_alter_table("feedback_ask", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_ask_colleague_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_ask_request_id"))
    op.drop_table("feedback_ask")
    with op.batch_alter_table("feedback_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_request_person_id"))
    op.drop_table("feedback_request")
