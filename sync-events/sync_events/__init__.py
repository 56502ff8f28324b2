"""The receiver of Personio's webhooks: stores each event in the ledger, then syncs the records
the events name (``sync-events register`` / ``sync-events serve``)."""
