"""Each campaign's contacts counted by status, outcome and answer, kept as they change

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_tally",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "status", "outcome", "answer"),
    )
    op.execute(
        "INSERT INTO campaign_tally (campaign_id, status, outcome, answer, contacts) "
        "SELECT campaign_id, status, COALESCE(outcome, ''), COALESCE(answer, ''), count(*) "
        "FROM notification WHERE campaign_id IS NOT NULL "
        "GROUP BY campaign_id, status, COALESCE(outcome, ''), COALESCE(answer, '')"
    )


def downgrade() -> None:
    op.drop_table("campaign_tally")
