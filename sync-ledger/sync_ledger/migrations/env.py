"""Alembic's entry point: runs the migrations on the connection ``sync_ledger.migrate`` passes."""

from alembic import context

from sync_ledger.migrate import VERSION_TABLE
from sync_ledger.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
