"""attempt.sent_at: when an attempt's request was cleared to leave; unset, it never left

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dialer.models import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", UTCDateTime(), nullable=True))
    # Attempts from before the fence may have left: they stay ambiguous, never taken back.
    op.execute("UPDATE attempt SET sent_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("sent_at")
