#!/usr/bin/env bash
# User-space instructions per password change outside Argon2, counted by valgrind's callgrind
# (issue 17): what a change costs beyond its two hashes, in a figure that does not move with
# the machine's load.
#
#   scripts/bench.d/change_instructions.sh BIN OUT [SECONDS] [FORMAT]
#
# Serves a fresh SQLite file under OUT with BIN (`agentgate`) under callgrind, with the
# Argon2 cost made trivial (m=8 KiB, t=1) so that what is counted is everything else a change
# does; 2 users change their passwords with change.lua (wrk -t2 -c2, FORMAT json, xml or
# form) for 3 s of warm-up, the counts are zeroed, 2 other users change for SECONDS (default
# 10; callgrind runs a server some 50 times slower), and the counts are dumped. Prints the
# instructions a change, every thread together; the dump stays in OUT for
# `callgrind_annotate --inclusive=yes OUT/cg.*.1`. Needs valgrind and wrk.
set -euo pipefail
bin=$1
out=$2
seconds=${3:-10}
format=${4:-json}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"
export AGENTGATE_ARGON2_MEMORY_KIB=8 AGENTGATE_ARGON2_ITERATIONS=1
rm -rf "$out"
mkdir -p "$out"
db="sqlite://$out/changes.db"
# change.lua's rotation starts at pw(0) for users PREFIX1, PREFIX2: w for the warm-up, u after.
for user in w1 w2 u1 u2; do
  printf '%s\n' "Vq7!$user-mauve-otter-0" | "$bin" user add "$user" --password-stdin --database "$db" >/dev/null
done
port=$(free_port)
AGENTGATE_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out/cg.%p" \
  "$bin" serve --bind "127.0.0.1:$port" --database "$db" 2>"$out/server.log" &
pid=$!
pids+=("$pid")
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.2
done
url="http://127.0.0.1:$port/api/v1/Agents/User/ChangeOwnPassword"
wrk -t2 -c2 -d3s --timeout 30s -s "$BENCH_LUA/change.lua" "$url" -- w "$format" >"$out/warm.txt" 2>&1
callgrind_control --zero "$pid" >/dev/null 2>&1
wrk -t2 -c2 -d"${seconds}s" --timeout 30s -s "$BENCH_LUA/change.lua" "$url" -- u "$format" >"$out/wrk.txt" 2>&1
callgrind_control --dump "$pid" >/dev/null 2>&1
kill "$pid"
wait "$pid" 2>/dev/null || true
python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
result = json.loads(next(l for l in open(f"{out}/wrk.txt") if l.startswith("BENCH "))[6:])
dump = sorted(glob.glob(f"{out}/cg.*.1"))[0]
total = next(int(l.split()[1]) for l in open(dump) if l.startswith("summary:"))
changes = max(result["expected"], 1)
print(f"{result['expected']} changes ({result['unexpected']} unexpected), "
      f"{total / changes:.0f} instructions a change")
PY
