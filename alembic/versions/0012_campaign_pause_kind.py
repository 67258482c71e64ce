"""Who may resume a paused campaign: a person (manual) or the credit watcher (credit)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_kind", sa.String(length=16), nullable=True))
    # Until now the kind was read from the reason's first words.
    op.execute(
        "UPDATE campaign SET pause_kind = CASE WHEN pause_reason LIKE 'insufficient credit%' "
        "THEN 'credit' ELSE 'manual' END WHERE status = 'paused'"
    )


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("pause_kind")
