#!/usr/bin/env bash
# User-space instructions per cheap request, counted by valgrind's callgrind: a figure that
# does not move with the machine's load, unlike requests/s, for comparing two builds on a
# noisy machine (the kernel's share, half or more of a cheap request, is not counted):
#
#   scripts/bench.d/instructions.sh BIN [FLOOR] [SECONDS]
#
# Runs BIN (`agentgate`) under callgrind with AGENTGATE_LOG=warn and again with the access
# log on (info, to a file), and FLOOR (`target/release/examples/floor`) when given; each
# warms up for 3 s, has its counts zeroed, serves unauthorized.lua for SECONDS (default 8;
# wrk -t1 -c4, callgrind runs a server some 50 times slower), and has its counts dumped.
# Prints instructions per request, every thread together. Needs valgrind and wrk.
set -euo pipefail
bin=$1
floor=${2:-}
seconds=${3:-8}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"

measure() { # measure LABEL URL COMMAND...
  local label=$1 url=$2 dir="$work/$1"
  shift 2
  mkdir -p "$dir"
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" "$@" 2>"$dir/server.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$url" && break
    sleep 0.2
  done
  wrk -t1 -c4 -d3s -s "$BENCH_LUA/unauthorized.lua" "$url" >/dev/null 2>&1
  callgrind_control --zero "$pid" >/dev/null 2>&1
  wrk -t1 -c4 -d"${seconds}s" -s "$BENCH_LUA/unauthorized.lua" "$url" >"$dir/wrk.txt" 2>&1
  callgrind_control --dump "$pid" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump asked for is the file numbered .1; the one written at exit holds the kill.
  python3 - "$label" "$dir" <<'PY'
import glob, json, sys
label, folder = sys.argv[1], sys.argv[2]
result = json.loads(next(l for l in open(f"{folder}/wrk.txt") if l.startswith("BENCH "))[6:])
dump = next(f for f in glob.glob(f"{folder}/callgrind.out.*.1"))
total = next(int(l.split()[1]) for l in open(dump) if l.startswith("summary:"))
print(f"{label:28} {result['requests']:7} requests  {total / result['requests']:9.0f} instructions a request")
PY
}

port=$(free_port)
db="sqlite://$work/instructions.db"
AGENTGATE_LOG=warn measure "401" "http://127.0.0.1:$port/api/v1/Agents/User/ChangeOwnPassword" \
  "$bin" serve --bind "127.0.0.1:$port" --database "$db"
port=$(free_port)
AGENTGATE_LOG=info measure "401, access log on" "http://127.0.0.1:$port/api/v1/Agents/User/ChangeOwnPassword" \
  "$bin" serve --bind "127.0.0.1:$port" --database "$db"
if [[ -n "$floor" ]]; then
  port=$(free_port)
  measure "floor" "http://127.0.0.1:$port/" "$floor" "127.0.0.1:$port"
fi
