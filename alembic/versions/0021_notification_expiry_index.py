"""The hopper's expiry reads the notifications that have a deadline, not every queued one

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 10:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notification_status_expires_at",
        "notification",
        ["status", "expires_at"],
        postgresql_where=sa.text("expires_at IS NOT NULL"),
        sqlite_where=sa.text("expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notification_status_expires_at", table_name="notification")
