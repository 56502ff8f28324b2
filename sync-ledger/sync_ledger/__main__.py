import sys

from sync_ledger.cli import main

sys.exit(main())
