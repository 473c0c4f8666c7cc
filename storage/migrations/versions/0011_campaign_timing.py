"""campaign timing: a recipient who said "not for me" to a whole campaign

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

``campaign_recipient.stopped_at``: when the person said the campaign is not for them; none of
its later steps reach them (the planner skips them, counted).

``outbound.not_after``: when a message stops being of use (an invitation or a reminder: its
workshop's start); the delivery worker skips it from then on instead of sending it late.

``one_time_link``: the purpose ``calendar`` (a workshop's calendar file, fetched as often as
needed until the workshop ends) and ``subject`` (which campaign and workshop).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PURPOSES = ("download_json", "download_page", "sign_in")
WITH_CALENDAR = (*PURPOSES, "calendar")


def _purposes(values: tuple[str, ...]) -> str:
    return "purpose IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("not_after", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("one_time_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=120), nullable=True))
        batch_op.drop_constraint("ck_one_time_link_purpose", type_="check")
        batch_op.create_check_constraint("ck_one_time_link_purpose", _purposes(WITH_CALENDAR))


def downgrade() -> None:
    op.execute("DELETE FROM one_time_link WHERE purpose = 'calendar'")
    with op.batch_alter_table("one_time_link", schema=None) as batch_op:
        batch_op.drop_constraint("ck_one_time_link_purpose", type_="check")
        batch_op.create_check_constraint("ck_one_time_link_purpose", _purposes(PURPOSES))
        batch_op.drop_column("subject")
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_column("not_after")
    with op.batch_alter_table("campaign_recipient", schema=None) as batch_op:
        batch_op.drop_column("stopped_at")
