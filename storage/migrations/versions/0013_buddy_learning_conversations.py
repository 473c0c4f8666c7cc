"""buddy, learning record and growth conversations

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

A new hire's buddy (``person.buddy_id``, from ``buddy_email`` in the people CSV); the learning
record (``learning_entry``: courses, trainings, certificates, informal learning, a personal
item like the others); planned growth conversations with their prep and agreements
(``growth_conversation``), and their rhythm (``person.growth_rhythm_months``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buddy_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("growth_rhythm_months", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_person_buddy_id"), ["buddy_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_person_buddy_id_person", "person", ["buddy_id"], ["id"], ondelete="SET NULL"
        )

    op.create_table(
        "learning_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("in_aggregates", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("learned_on", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("takeaway", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "visibility IN ('private', 'manager')", name="ck_learning_entry_visibility"
        ),
        sa.CheckConstraint(
            "kind IN ('course', 'training', 'certificate', 'informal')",
            name="ck_learning_entry_kind",
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("learning_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learning_entry_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "growth_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("brought", sa.JSON(), nullable=False),
        sa.Column("prepared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("agenda_shared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("employee_agreement", sa.Text(), nullable=True),
        sa.Column("manager_note", sa.Text(), nullable=True),
        sa.Column("manager_note_added", sa.Boolean(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "set_by IN ('employee', 'manager')", name="ck_growth_conversation_set_by"
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'cancelled')", name="ck_growth_conversation_status"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["manager_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("growth_conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_growth_conversation_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_growth_conversation_manager_id"), ["manager_id"], unique=False
        )
        batch_op.create_index(
            "ix_growth_conversation_person_date", ["person_id", "planned_for"], unique=False
        )


def downgrade() -> None:
    op.drop_table("growth_conversation")
    op.drop_table("learning_entry")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_buddy_id_person", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_person_buddy_id"))
        batch_op.drop_column("growth_rhythm_months")
        batch_op.drop_column("buddy_id")
