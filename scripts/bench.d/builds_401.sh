#!/usr/bin/env bash
# Two builds' cheap refusals against their own floors, in turn, round after round: for
# telling a build setting (scripts/release-pgo against a plain release build) from the
# machine's drift.
#
#   scripts/bench.d/builds_401.sh target/release target/pgo/release [ROUNDS] [SECONDS]
#
# Each DIR holds `agentgate` and `examples/floor` of one build. Four servers run at once (two
# floors, two agentgates on throwaway SQLite files, AGENTGATE_LOG=warn); each round measures
# the four in a rotating order with `unauthorized.lua` (wrk -t2 -c16, SECONDS each, default 6;
# ROUNDS default 6). Prints, a line each, requests a second and the server's CPU a request
# (user and system time from /proc, every thread), then per build the mean CPU a request and
# the median over the rounds of its 401s a second against its floor's.
set -euo pipefail
a=$(realpath "$1")
b=$(realpath "$2")
rounds=${3:-6}
seconds=${4:-6}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"
declare -A url pid
path=/api/v1/Agents/User/ChangeOwnPassword
for build in a b; do
  dir=${!build}
  port=$(free_port)
  "$dir/examples/floor" "127.0.0.1:$port" 2>"$work/floor_$build.log" &
  pids+=($!)
  pid[floor_$build]=$!
  url[floor_$build]=$(wait_listening "$work/floor_$build.log")$path
  port=$(free_port)
  AGENTGATE_LOG=warn "$dir/agentgate" serve --bind "127.0.0.1:$port" --database "sqlite://$work/$build.db" \
    2>"$work/agentgate_$build.log" &
  pids+=($!)
  pid[401_$build]=$!
  url[401_$build]=$(wait_listening "$work/agentgate_$build.log")$path
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
order=(floor_a 401_a floor_b 401_b)
for name in "${order[@]}"; do
  wrk -t2 -c16 -d2s -s "$BENCH_LUA/unauthorized.lua" "${url[$name]}" >/dev/null
done
echo "a: $a"
echo "b: $b"
for r in $(seq 1 "$rounds"); do
  for i in 0 1 2 3; do
    name=${order[$(( (i + r) % 4 ))]}
    before=$(cpu "${pid[$name]}")
    wrk -t2 -c16 -d"${seconds}s" -s "$BENCH_LUA/unauthorized.lua" "${url[$name]}" >"$work/wrk.txt" 2>&1
    after=$(cpu "${pid[$name]}")
    python3 - "$r" "$name" "$before" "$after" "$(getconf CLK_TCK)" "$work/wrk.txt" <<'PY' | tee -a "$work/rows"
import json, sys
r, name, before, after, tick, path = sys.argv[1:]
res = json.loads(next(l for l in open(path) if l.startswith("BENCH "))[6:])
cpu_us = (int(after) - int(before)) / int(tick) * 1e6 / res["requests"]
print(f"r{r} {name:8} {res['rps']:9.0f} requests/s {cpu_us:7.2f} us server CPU a request")
PY
  done
done
python3 - "$work/rows" <<'PY'
import collections, statistics, sys
rps, cpu = collections.defaultdict(dict), collections.defaultdict(list)
for line in open(sys.argv[1]):
    r, name, rate, _, us = line.split()[:5]
    rps[name][r] = float(rate)
    cpu[name].append(float(us))
for build in "ab":
    f, a = f"floor_{build}", f"401_{build}"
    ratios = [rps[a][r] / rps[f][r] for r in rps[f]]
    print(f"{build}: floor {statistics.mean(cpu[f]):.2f} us, 401 {statistics.mean(cpu[a]):.2f} us server CPU a "
          f"request (means); 401/floor per round {' '.join(f'{x:.2f}' for x in ratios)}, "
          f"median {statistics.median(ratios):.2f}")
PY
