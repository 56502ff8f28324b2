#!/usr/bin/env bash
# The demo (`make demo`): the whole sync against the sandbox, as a newcomer would run it.
#   1. start the sandbox (emulated Personio on :8401 and Staffomatic on :8402, demo data)
#   2. meltano install (the plugins' virtual environments under .meltano/)
#   3. a dry run of sync-all (every area) and its plan
#   4. the daily-full-refresh schedule, then the sync-ledger report
#   5. daily-full-refresh again: nothing to write
#   6. one change in each system, then the incremental-every-2h schedule carries them over
# It starts from a clean ledger and clean Meltano state (both under .meltano/demo/), talks only
# to 127.0.0.1, and stops the sandbox when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PERSONIO=http://127.0.0.1:8401
STAFFOMATIC=http://127.0.0.1:8402
DEMO=$ROOT/.meltano/demo
LOG=$DEMO/meltano.log

heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
since() { date -u +%Y-%m-%dT%H:%M:%S; }
helper() { python scripts/demo_helper.py "$@"; }
ledger() { meltano invoke sync-ledger "$@" 2>>"$LOG"; }

python scripts/demo_helper.py ports 8401 8402

rm -rf "$DEMO"
mkdir -p "$DEMO"
# Only the sandbox, whatever the shell or .env say: the shared settings (see meltano.yml) are
# set here, and Meltano's per-plugin variables for the same settings are cleared.
for name in $(compgen -e); do
  case $name in
    TAP_PERSONIO*|TAP_STAFFOMATIC*|TARGET_PERSONIO*|TARGET_STAFFOMATIC*|SYNC_LEDGER_*) unset "$name" ;;
  esac
done
export MELTANO_ENVIRONMENT=sandbox
export MELTANO_DATABASE_URI=sqlite:///$DEMO/meltano.db
export SYNC_LEDGER_URL=sqlite:///$DEMO/sync-ledger.db
export PERSONIO_BASE_URL=$PERSONIO PERSONIO_CLIENT_ID=demo-client-id
export PERSONIO_CLIENT_SECRET=demo-client-secret
export STAFFOMATIC_BASE_URL=$STAFFOMATIC/v3 STAFFOMATIC_ACCOUNT=demo
export STAFFOMATIC_EMAIL=api@demo-gastro.example STAFFOMATIC_PASSWORD=demo-password
export ABSENCE_SOURCE=${ABSENCE_SOURCE:-personio}
unset SYNC_DRY_RUN PERSONIO_CREDENTIALS_FILE STAFFOMATIC_API_TOKEN MELTANO_RUN_FULL_REFRESH

heading "1. Starting the sandbox: Personio on $PERSONIO, Staffomatic on $STAFFOMATIC"
python -m sandbox serve --personio-port 8401 --staffomatic-port 8402 --seed demo \
  >"$DEMO/sandbox.log" 2>&1 &
SANDBOX_PID=$!
stop() {
  kill "$SANDBOX_PID" 2>/dev/null || true
  wait "$SANDBOX_PID" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
if ! helper wait "$PERSONIO" "$STAFFOMATIC"; then
  cat "$DEMO/sandbox.log" >&2
  exit 1
fi
cat "$DEMO/sandbox.log"
echo "Absences are led by: $ABSENCE_SOURCE (ABSENCE_SOURCE=staffomatic make demo for the other way)"

heading "2. Installing the plugins (meltano install)"
if ! meltano install >"$DEMO/install.log" 2>&1; then
  tail -n 40 "$DEMO/install.log" >&2
  echo "meltano install failed; the whole log is in $DEMO/install.log" >&2
  exit 1
fi
echo "Installed; the plugins' virtual environments are under .meltano/."

heading "3. Dry run: what sync-all would do (nothing is written, no bookmark is kept)"
T=$(since)
echo "\$ python scripts/sync.py --dry-run sync-all && meltano invoke sync-ledger plan --since $T"
python scripts/sync.py --dry-run sync-all --log "$LOG"
ledger plan --since "$T"
read -r P S < <(helper writes "$PERSONIO" "$STAFFOMATIC")
echo "Writes sent by the dry run: Personio $P, Staffomatic $S"

heading "4. daily-full-refresh (the daily 06:30 schedule: every area, whole windows)"
T=$(since)
echo "\$ python scripts/sync.py daily-full-refresh"
python scripts/sync.py daily-full-refresh --log "$LOG"
echo
echo "\$ meltano invoke sync-ledger report --since $T"
ledger report --since "$T"

heading "5. daily-full-refresh again: everything is in step, so nothing is written"
read -r P0 S0 < <(helper writes "$PERSONIO" "$STAFFOMATIC")
T=$(since)
python scripts/sync.py daily-full-refresh --log "$LOG"
read -r P1 S1 < <(helper writes "$PERSONIO" "$STAFFOMATIC")
echo "Writes sent by this run: Personio $((P1 - P0)), Staffomatic $((S1 - S0))"
ledger report --since "$T" --format json | helper totals
echo "(skips are the records held back above, with the same reasons)"

heading "6. A change in each system, then incremental-every-2h (every two hours: what changed)"
helper change "$PERSONIO" "$STAFFOMATIC"
T=$(since)
echo "\$ python scripts/sync.py incremental-every-2h"
python scripts/sync.py incremental-every-2h --log "$LOG"
helper show "$PERSONIO" "$STAFFOMATIC"
ledger report --since "$T" --format json | helper totals

heading "Done"
echo "Meltano's output of every run is in .meltano/demo/meltano.log. The sandbox stops now."
