"""The ledger's schema history (Alembic). ``sync_ledger.migrate`` applies it at start."""
