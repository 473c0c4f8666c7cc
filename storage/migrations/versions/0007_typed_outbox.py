"""typed outbox: outbound.campaign_step, and CHECK constraints on states, statuses and kinds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

A campaign message's step was written into its idempotency key (``campaign:<slug>:<step>:
<person>[:<copy>]``) and parsed back out; it is now a column, filled here from the keys of the
rows already there. Every column whose values come from a fixed set (the StrEnums of
``storage/models.py``) gets a CHECK constraint, named ``ck_<table>_<column>``; the values are
written out here as they were at this revision.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

VISIBILITY = ("private", "manager")
EXPERIMENT_STATUS = ("planned", "doing", "done", "dropped")
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "person": {
        "role": ("employee", "manager", "hr", "admin"),
        "default_visibility": VISIBILITY,
    },
    "dialog_session": {"status": ("active", "done", "cancelled", "abandoned")},
    "answer": {"visibility": VISIBILITY},
    "experiment": {"visibility": VISIBILITY, "status": EXPERIMENT_STATUS},
    "check_in": {"visibility": VISIBILITY, "experiment_status": EXPERIMENT_STATUS},
    "plan_item": {
        "visibility": VISIBILITY,
        "kind": ("personal", "improvement", "team"),
        "status": ("open", "done"),
    },
    "profile_entry": {"visibility": VISIBILITY, "kind": ("skill", "talent", "learn")},
    "consent_record": {"kind": ("privacy_notice", "ai")},
    "outbound": {
        "state": ("pending", "sending", "sent", "failed", "dead", "skipped", "held"),
    },
    "campaign": {"state": ("running", "paused", "cancelled")},
    "campaign_rsvp": {"state": ("going", "waitlist", "cancelled")},
}
CAMPAIGN_KEY = re.compile(r"campaign:[^:]+:([^:]+):")
"""``campaign:<slug>:<step>:<person>``, and copies with one more part: the step is the third."""


def _condition(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({allowed})"


def _refuse_unknown_values() -> None:
    """Name every value a constraint would refuse, rather than fail on the first row."""
    bind = op.get_bind()
    found = []
    for table, columns in CHECKS.items():
        for column, values in columns.items():
            field = sa.column(column, sa.String())
            query = (
                sa.select(field, sa.func.count())
                .select_from(sa.table(table))
                .where(field.is_not(None), field.not_in(values))
                .group_by(field)
            )
            found += [f"{table}.{column} = {v!r} ({n} rows)" for v, n in bind.execute(query)]
    if found:
        raise RuntimeError("values outside their fixed set, to correct first: " + "; ".join(found))


def _backfill_campaign_steps() -> None:
    outbound = sa.table(
        "outbound",
        sa.column("id", sa.Integer()),
        sa.column("idempotency_key", sa.String()),
        sa.column("campaign_id", sa.Integer()),
        sa.column("campaign_step", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(outbound.c.id, outbound.c.idempotency_key).where(
            outbound.c.campaign_id.is_not(None)
        )
    )
    steps = []
    for row_id, key in rows:
        found = CAMPAIGN_KEY.match(key)
        if found is not None:
            steps.append({"row_id": row_id, "step": found.group(1)})
    update = (
        sa.update(outbound)
        .where(outbound.c.id == sa.bindparam("row_id"))
        .values(campaign_step=sa.bindparam("step"))
    )
    for start in range(0, len(steps), 1000):
        bind.execute(update, steps[start : start + 1000])


def upgrade() -> None:
    _refuse_unknown_values()
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_step", sa.String(length=40), nullable=True))
    _backfill_campaign_steps()
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(f"ck_{table}_{column}", _condition(column, values))


def downgrade() -> None:
    for table, columns in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_constraint(f"ck_{table}_{column}", type_="check")
    with op.batch_alter_table("outbound", schema=None) as batch_op:
        batch_op.drop_column("campaign_step")
