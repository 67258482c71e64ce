"""An endpoint's pending webhook events in id order, so a tick reads a batch, not the backlog

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_event_endpoint_id_status_id", "webhook_event", ["endpoint_id", "status", "id"]
    )
    op.drop_index("ix_webhook_event_endpoint_id", table_name="webhook_event")


def downgrade() -> None:
    op.create_index("ix_webhook_event_endpoint_id", "webhook_event", ["endpoint_id"])
    op.drop_index("ix_webhook_event_endpoint_id_status_id", table_name="webhook_event")
