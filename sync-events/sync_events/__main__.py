from sync_events.cli import main

raise SystemExit(main())
