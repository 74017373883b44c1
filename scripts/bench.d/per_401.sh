#!/usr/bin/env bash
# Per-request costs of agentgate's cheap refusal (401, no credentials), for comparing two
# builds in turn, as per_change.sh does for changes:
#
#   scripts/bench.d/per_401.sh BIN [SECONDS]
#   AGENTGATE_LOG=info scripts/bench.d/per_401.sh BIN   # the access log on, to a file, after warm_memory (servers.sh)
#
# Serves a fresh SQLite file with AGENTGATE_LOG=warn (or what the environment says), its
# stderr to a file, warms up for 2 s, then runs
# unauthorized.lua (wrk -t2 -c16) for SECONDS (default 10); prints 401s a second and, per
# request, the server's CPU microseconds and context switches (from /proc before and after,
# every thread; the log thread's apart) and wrk's own CPU. Run two builds one after the other, twice or more: the
# machine drifts, only neighbours compare.
set -euo pipefail
bin=$1
seconds=${2:-10}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"
port=$(free_port)
url="http://127.0.0.1:$port/api/v1/Agents/User/ChangeOwnPassword"
[ "${AGENTGATE_LOG:-warn}" = warn ] || warm_memory
AGENTGATE_LOG="${AGENTGATE_LOG:-warn}" "$bin" serve --bind "127.0.0.1:$port" --database "sqlite://$work/per_401.db" \
  2>"$work/server.log" &
pid=$!
pids+=("$pid")
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
wrk -t2 -c16 -d2s -s "$BENCH_LUA/unauthorized.lua" "$url" >/dev/null 2>&1
snapshot() { # utime+stime (ticks) and context switches: every thread, then the log thread
  local cpu=0 switches=0 log_cpu=0 log_switches=0 fields task s
  for task in /proc/"$pid"/task/*; do
    fields=($(sed 's/.*) //' "$task/stat"))
    s=$(awk '/ctxt_switches/ {s += $2} END {print s}' "$task/status")
    cpu=$((cpu + fields[11] + fields[12]))
    switches=$((switches + s))
    if [[ "$(cat "$task/comm")" == agentgate-log* ]]; then
      log_cpu=$((log_cpu + fields[11] + fields[12]))
      log_switches=$((log_switches + s))
    fi
  done
  echo "$cpu $switches $log_cpu $log_switches"
}
before=$(snapshot)
/usr/bin/time -f "%U %S" -o "$work/wrk_cpu" \
  wrk -t2 -c16 -d"${seconds}s" -s "$BENCH_LUA/unauthorized.lua" "$url" >"$work/wrk.txt" 2>&1
after=$(snapshot)
python3 - "$work" "$seconds" "$(getconf CLK_TCK)" "$before" "$after" <<'PY'
import json, sys
work, seconds, tick = sys.argv[1], int(sys.argv[2]), 1e6 / int(sys.argv[3])
(cpu0, cs0, lcpu0, lcs0), (cpu1, cs1, lcpu1, lcs1) = (map(int, s.split()) for s in sys.argv[4:6])
result = json.loads(next(l for l in open(f"{work}/wrk.txt") if l.startswith("BENCH "))[6:])
n = result["expected"]
assert result["unexpected"] == 0, result
user, system = map(float, open(f"{work}/wrk_cpu").read().split()[-2:])
print(f"{n / seconds:.0f} 401/s  server {(cpu1 - cpu0) * tick / n:.2f} us "
      f"{(cs1 - cs0) / n:.3f} cs (log thread {(lcpu1 - lcpu0) * tick / n:.2f} us "
      f"{(lcs1 - lcs0) / n:.3f} cs)  wrk {(user + system) * 1e6 / n:.2f} us")
PY
