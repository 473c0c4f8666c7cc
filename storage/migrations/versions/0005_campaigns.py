"""campaigns

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("launched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "campaign_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_campaign_recipient"),
    )
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_recipient_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_recipient_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "campaign_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "campaign_id", "step", "person_id", "kind", name="uq_campaign_response"
        ),
    )
    with op.batch_alter_table("campaign_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_response_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_response_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "campaign_rsvp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("workshop", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "workshop", "person_id", name="uq_campaign_rsvp"),
    )
    with op.batch_alter_table("campaign_rsvp", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_rsvp_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_rsvp_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_experiment_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_experiment_campaign_id", "campaign", ["campaign_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbound_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_outbound_campaign_id", "campaign", ["campaign_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("campaigns_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("campaigns_opt_out")

    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbound_campaign_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbound_campaign_id"))
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_experiment_campaign_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_experiment_campaign_id"))
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("campaign_rsvp", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_rsvp_person_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_rsvp_campaign_id"))

    op.drop_table("campaign_rsvp")
    with op.batch_alter_table("campaign_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_response_person_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_response_campaign_id"))

    op.drop_table("campaign_response")
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_recipient_person_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_recipient_campaign_id"))

    op.drop_table("campaign_recipient")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_owner_id"))

    op.drop_table("campaign")
