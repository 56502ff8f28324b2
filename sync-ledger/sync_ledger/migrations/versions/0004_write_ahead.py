"""The write-ahead record: each write's intent before it is sent, its outcome after.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from sync_ledger.schema import ID, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_intents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("ledger_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("dest_id", sa.String(ID)),
    )
    op.create_index("ix_ledger_intents_run", "ledger_intents", ["run_id", "entity", "source_id"])


def downgrade() -> None:
    op.drop_table("ledger_intents")
