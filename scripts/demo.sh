#!/usr/bin/env bash
# The demo (`make demo`): start the sandbox with the demo seed, show what it serves, stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONIO_PORT=${PERSONIO_PORT:-8401}
STAFFOMATIC_PORT=${STAFFOMATIC_PORT:-8402}
LOG=$(mktemp)
python -m sandbox serve --personio-port "$PERSONIO_PORT" --staffomatic-port "$STAFFOMATIC_PORT" \
  --seed demo >"$LOG" 2>&1 &
SANDBOX_PID=$!
trap 'kill $SANDBOX_PID 2>/dev/null || true; wait $SANDBOX_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$STAFFOMATIC_PORT/_sandbox/requests" >/dev/null 2>&1 &&
     curl -fsS "http://127.0.0.1:$PERSONIO_PORT/_sandbox/requests" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 $SANDBOX_PID 2>/dev/null; then cat "$LOG"; echo "the sandbox did not start" >&2; exit 1; fi
  sleep 0.1
done
echo "== The sandbox serves =="
cat "$LOG"
python scripts/show_state.py "http://127.0.0.1:$PERSONIO_PORT" "http://127.0.0.1:$STAFFOMATIC_PORT"
echo "== Stopping the sandbox =="
