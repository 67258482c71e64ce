"""Finals per campaign, minute and outcome, kept as attempts end, for the console's chart

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_minute",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("finals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "minute", "outcome"),
    )
    # The attempts that ended before this table existed.
    if op.get_bind().dialect.name == "sqlite":
        minute = "strftime('%Y-%m-%d %H:%M:00.000000', a.ended_at)"
    else:
        minute = "date_trunc('minute', a.ended_at)"
    op.execute(
        "INSERT INTO campaign_minute (campaign_id, minute, outcome, finals) "
        f"SELECT n.campaign_id, {minute}, COALESCE(a.outcome, a.status), count(*) "
        "FROM attempt a JOIN notification n ON n.id = a.notification_id "
        "WHERE n.campaign_id IS NOT NULL AND a.ended_at IS NOT NULL "
        "AND a.status IN ('finished', 'not_sent') "
        f"GROUP BY n.campaign_id, {minute}, COALESCE(a.outcome, a.status)"
    )


def downgrade() -> None:
    op.drop_table("campaign_minute")
