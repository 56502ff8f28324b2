"""The webhook events the receiver stored, until the sync they drive succeeded.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from sync_ledger.schema import ID, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_ledger_events_status", "ledger_events", ["status", "area", "received_at"])


def downgrade() -> None:
    op.drop_table("ledger_events")
