"""Look-ups a target keeps across runs (locations, departments, absence types with the vendor's
ETag to revalidate them, and the page counts of lists it may read): no personal data.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from sync_ledger.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_lookups",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("what", sa.String(255), nullable=False),
        sa.Column("etag", sa.String(255)),
        sa.Column("body", sa.JSON(none_as_null=True)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_lookups")
