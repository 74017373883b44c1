#!/usr/bin/env bash
# schemathesis against the live server (issue 8): the real binary with a user and a ticket,
# every operation of /openapi.json fuzzed with the ticket in `Authorization`; fails on any 5xx
# and on any response that breaks the document (status, content type, headers, schema).
#
#   tests/schemathesis/run.sh            # after `cargo build --workspace`
#   SCHEMATHESIS_EXAMPLES=500 tests/schemathesis/run.sh
#
# The binary: $AGENTGATE_BIN, else $CARGO_TARGET_DIR/debug/agentgate, else target/debug.
# scripts/test installs schemathesis. Without it this fails under CI=true; elsewhere it says
# on stderr that it skipped and exits 77 (not 0: nothing ran).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! python3 -c 'import schemathesis' 2>/dev/null; then
  fix="pip install -r tests/schemathesis/requirements.txt"
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "tests/schemathesis: cannot run under CI=true: schemathesis is not installed ($fix)" >&2
    exit 1
  fi
  echo "skipped: schemathesis is not installed ($fix)" >&2
  exit 77
fi
bin="${AGENTGATE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/agentgate}"
[ -x "$bin" ] || { echo "$bin is missing: run cargo build --workspace first" >&2; exit 1; }

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/agentgate.db"
# Cheap hashing: schemathesis sends hundreds of requests; the cost is not what is tested here.
# Its random old passwords are all wrong: with the default throttle every change after the
# fifth would be a 429 and the bodies behind it would go unread, so the throttle is lifted.
fast=(--argon2-memory-kib 1024 --argon2-iterations 1 --throttle-failures 1000000)
echo "Vq7!schema-mauve-otter-0" | "$bin" user add schema --password-stdin --database "$db" 2>/dev/null
ticket=$("$bin" ticket issue schema --database "$db")
AGENTGATE_LOG=warn "$bin" serve --bind 127.0.0.1:0 --database "$db" "${fast[@]}" 2>"$work/server.log" &
server=$!
url=""
# Poll the log for the address, up to 30 s.
for _ in $(seq 1 300); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | head -n1 | sed 's/listening on //') || true
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { echo "agentgate did not start:"; cat "$work/server.log"; exit 1; }

# not_a_server_error: no 5xx. The conformance checks: status codes, content types, required
# headers and response bodies against the document. Throttling (429) and a full hashing queue
# (503) are documented responses, so they conform when they happen.
status=0
schemathesis --no-color run "$url/openapi.json" \
  --url "$url" \
  -H "Authorization: SOTicket $ticket" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" \
  --generation-deterministic \
  --report junit --report-dir "$work/report" \
  || status=$?
if grep -qi panick "$work/server.log"; then
  echo "agentgate panicked:"; grep -i -A5 panick "$work/server.log"; status=1
fi
exit "$status"
