#!/usr/bin/env bash
# awc against reqwest as agentgate's upstream client: an origin answering `true` (the floor's
# handler), and in front of it the relay through each client in turn, round after round, under
# wrk on loopback. Prints one line per run and the median requests/s and p99 of each.
#
#   scripts/bench.d/clients/compare.sh            # 3 rounds of 10 s
#   ROUNDS=5 SECONDS_EACH=15 scripts/bench.d/clients/compare.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}/clients"
rounds="${ROUNDS:-3}"
seconds="${SECONDS_EACH:-10}"
connections="${CONNECTIONS:-16}"
(cd "$here" && cargo build --release --locked -q --target-dir "$target")
bin="$target/release/agentgate-client-comparison"
# shellcheck source=../servers.sh
source "$here/../servers.sh"
start() { # start NAME ARGS...: sets $NAME to the base URL once it listens
  local name=$1 port
  shift
  port=$(free_port)
  "$bin" "$1" "127.0.0.1:$port" "${@:2}" >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q "listening" "$work/$name.log" 2>/dev/null; then
      printf -v "$name" '%s' "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  echo "compare: $name did not start: $(cat "$work/$name.log")" >&2; exit 1
}
path=/api/v1/Agents/User/ChangeOwnPassword
start origin floor
start awc awc "$origin$path" 64
start reqwest reqwest "$origin$path" 64
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA
for r in $(seq 1 "$rounds"); do
  for name in origin awc reqwest; do
    url=${!name}
    line=$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "$url$path" | grep '^RESULT')
    echo "round $r $name: $line"
    echo "$name $line" >>"$work/results"
  done
done
python3 - "$work/results" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    name, _, rps, p50, p99, errors = line.split()
    rows.setdefault(name, []).append((float(rps), float(p50), float(p99), int(errors)))
print("| path | requests/s (median) | p50 ms | p99 ms (median) | errors |")
print("|---|---|---|---|---|")
for name in ("origin", "awc", "reqwest"):
    r = rows[name]
    print("| %s | %.0f | %.3f | %.3f | %d |" % (name, statistics.median(x[0] for x in r),
          statistics.median(x[1] for x in r), statistics.median(x[2] for x in r), sum(x[3] for x in r)))
PY
