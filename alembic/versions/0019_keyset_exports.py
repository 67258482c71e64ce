"""Keyset indexes for the exports: a campaign's contacts and an import's issues in id order

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 19:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notification_campaign_id_id", "notification", ["campaign_id", "id"])
    op.create_index("ix_import_issue_import_id_id", "import_issue", ["import_id", "id"])
    op.drop_index("ix_import_issue_import_id", table_name="import_issue")


def downgrade() -> None:
    op.create_index("ix_import_issue_import_id", "import_issue", ["import_id"])
    op.drop_index("ix_import_issue_import_id_id", table_name="import_issue")
    op.drop_index("ix_notification_campaign_id_id", table_name="notification")
