"""Each attempt names its campaign, indexed with its id: a campaign's latest attempts are read
without its contacts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE attempt SET campaign_id = (SELECT n.campaign_id FROM notification n "
        "WHERE n.id = attempt.notification_id)"
    )
    op.create_index("ix_attempt_campaign_id_id", "attempt", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_attempt_campaign_id_id", table_name="attempt")
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("campaign_id")
