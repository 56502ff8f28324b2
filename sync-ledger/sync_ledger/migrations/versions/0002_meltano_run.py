"""Each run remembers the Meltano run, job or schedule and environment that started it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_runs") as batch:
        batch.add_column(sa.Column("meltano_run_id", sa.String(64)))
        batch.add_column(sa.Column("meltano_job", sa.String(128)))
        batch.add_column(sa.Column("meltano_environment", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("ledger_runs") as batch:
        batch.drop_column("meltano_environment")
        batch.drop_column("meltano_job")
        batch.drop_column("meltano_run_id")
