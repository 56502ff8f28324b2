"""The four tables of the first release: links, runs (with pid and host), run log, retries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from sync_ledger.schema import ID, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_links",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("source_id", sa.String(ID), primary_key=True),
        sa.Column("dest_id", sa.String(ID), nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("data", sa.JSON(none_as_null=True)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "ledger_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("counts", sa.JSON(none_as_null=True)),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(64)),
    )
    op.create_index("ix_ledger_runs_target_started", "ledger_runs", ["target", "started_at"])
    op.create_index("ix_ledger_runs_started", "ledger_runs", ["started_at"])
    op.create_table(
        "ledger_actions",
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
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("dest_id", sa.String(ID)),
    )
    op.create_index("ix_ledger_actions_run", "ledger_actions", ["run_id", "entity", "action"])
    op.create_table(
        "ledger_retries",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("source_id", sa.String(ID), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_failed_at", UTCDateTime, nullable=False),
        sa.Column("last_failed_at", UTCDateTime, nullable=False),
        sa.Column("given_up", sa.Boolean, nullable=False),
    )
    op.create_index("ix_ledger_retries_given_up", "ledger_retries", ["given_up", "first_failed_at"])


def downgrade() -> None:
    for table in ("ledger_retries", "ledger_actions", "ledger_runs", "ledger_links"):
        op.drop_table(table)
