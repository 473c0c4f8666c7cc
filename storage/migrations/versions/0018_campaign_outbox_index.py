"""campaign outbox index: a campaign's messages counted from one covering index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

``ix_outbound_campaign`` (campaign, state, step, channel, not before, person) replaces
``ix_outbound_campaign_id``: the campaign's figures and its live status count 30,000 messages
of a 10,000-person campaign without reading the rows themselves.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

COLUMNS = ["campaign_id", "state", "campaign_step", "channel", "not_before", "person_id"]


def upgrade() -> None:
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_campaign", COLUMNS, unique=False)
        batch_op.drop_index("ix_outbound_campaign_id")


def downgrade() -> None:
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_campaign_id", ["campaign_id"], unique=False)
        batch_op.drop_index("ix_outbound_campaign")
