"""Answers, costs and results: a notification's answer and its import, each import's columns,
when an attempt's cost is next looked up, whether a campaign's end has been reported, and what
each Voxology number answers callers with

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialer.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("import_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("contact_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("columns", sa.JSON(), nullable=True))
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_due_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_attempt_cost_due_at", ["cost_due_at"])
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_reported_at", UTCDateTime(), nullable=True))
    op.create_table(
        "number_action",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=1000), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    # The answers given so far, from the attempts that heard them (the latest counts).
    op.execute(
        "UPDATE notification SET answer = (SELECT a.answer FROM attempt a "
        "WHERE a.notification_id = notification.id AND a.answer IS NOT NULL "
        "ORDER BY a.number DESC LIMIT 1)"
    )
    # Campaigns that ended before this were reported when they ended.
    op.execute(
        "UPDATE campaign SET finished_reported_at = finished_at "
        "WHERE status IN ('completed', 'canceled')"
    )


def downgrade() -> None:
    op.drop_table("number_action")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("finished_reported_at")
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_attempt_cost_due_at")
        batch_op.drop_column("cost_due_at")
    with op.batch_alter_table("contact_import", schema=None) as batch_op:
        batch_op.drop_column("columns")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("import_id")
        batch_op.drop_column("answer")
