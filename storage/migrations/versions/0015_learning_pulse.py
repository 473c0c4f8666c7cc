"""pulse_answer, pulse_copy, pulse_closed: the learning-needs pulse

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Answers are stored without a person or a time (``pulse_answer``); while the pulse is open a
person's link to their own answers is ``pulse_copy``, deleted when it closes (``pulse_closed``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pulse_answer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pulse_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_answer_campaign_id"), ["campaign_id"], unique=False
        )
    op.create_table(
        "pulse_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["answer_id"], ["pulse_answer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pulse_copy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_copy_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pulse_copy_person_id"), ["person_id"], unique=False)
    op.create_table(
        "pulse_closed",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    op.drop_table("pulse_closed")
    with op.batch_alter_table("pulse_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_copy_person_id"))
        batch_op.drop_index(batch_op.f("ix_pulse_copy_campaign_id"))
    op.drop_table("pulse_copy")
    with op.batch_alter_table("pulse_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_answer_campaign_id"))
    op.drop_table("pulse_answer")
