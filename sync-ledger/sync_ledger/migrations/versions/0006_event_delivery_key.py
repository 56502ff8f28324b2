"""A stored webhook event carries its delivery key, unique: a delivery Personio repeats (a retry
after a timeout, a duplicate) is stored once.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_events") as table:
        table.add_column(sa.Column("delivery_key", sa.String(64)))
    op.create_index("ux_ledger_events_delivery", "ledger_events", ["delivery_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_ledger_events_delivery", table_name="ledger_events")
    with op.batch_alter_table("ledger_events") as table:
        table.drop_column("delivery_key")
