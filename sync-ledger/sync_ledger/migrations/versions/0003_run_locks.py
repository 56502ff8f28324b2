"""Who holds the lock of a destination account (one run at a time per account).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from sync_ledger.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_locks",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(64)),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_locks")
