"""sms fallback: a notification's fallback text and step, an attempt's own channel

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHANNELS = ("tts", "playback", "voice_flow", "conference", "sms")


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fallback_text", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("on_fallback", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum(*_CHANNELS, name="channel", native_enum=False, length=16),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("on_fallback")
        batch_op.drop_column("fallback_text")
