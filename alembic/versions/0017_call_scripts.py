"""Call scripts: a campaign's and a notification's script, the answers to each question, a
transfer's number and length, and each campaign's answers counted per question

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _widen_answer(table: str, *, nullable: bool, width: int) -> None:
    old, new = (16, width) if width > 16 else (64, width)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            "answer",
            existing_type=sa.String(length=old),
            type_=sa.String(length=new),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("script", sa.JSON(), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("script", sa.JSON(), nullable=True))
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("transferred_to", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("transfer_start_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("transfer_s", sa.Integer(), nullable=True))
    _widen_answer("notification", nullable=True, width=64)
    _widen_answer("attempt", nullable=True, width=64)
    _widen_answer("campaign_tally", nullable=False, width=64)
    op.create_table(
        "campaign_answer",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "question", "label"),
    )


def downgrade() -> None:
    op.drop_table("campaign_answer")
    _widen_answer("campaign_tally", nullable=False, width=16)
    _widen_answer("attempt", nullable=True, width=16)
    _widen_answer("notification", nullable=True, width=16)
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("transfer_s")
        batch_op.drop_column("transfer_start_ms")
        batch_op.drop_column("transferred_to")
        batch_op.drop_column("answers")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("script")
        batch_op.drop_column("answers")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("script")
