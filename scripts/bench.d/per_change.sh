#!/usr/bin/env bash
# Per-change costs of one agentgate binary, for comparing two builds in turn:
#
#   scripts/bench.d/per_change.sh BIN [SECONDS] [FORMAT]
#
# 8 users on a fresh SQLite file change their passwords for SECONDS (default 15) with
# change.lua (wrk -t8 -c8, FORMAT json, xml or form); prints changes/s and, per change, the
# CPU milliseconds and context switches of each thread group of the server (hashing, SQLite,
# HTTP workers), from /proc before and after, wrk's own CPU, and every core's busy time
# (/proc/stat). Run two builds one after the other, twice or more: the machine drifts, only
# neighbours compare.
set -euo pipefail
bin=$1
seconds=${2:-15}
format=${3:-json}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"
db="sqlite://$work/per_change.db"
for n in 1 2 3 4 5 6 7 8; do echo "u$n"; done | xargs -P 2 -I{} sh -c \
  'printf "%s\n" "Vq7!{}-mauve-otter-0" | "$0" user add {} --password-stdin --database "$1"' \
  "$bin" "$db" >"$work/users.log" 2>&1 || { cat "$work/users.log"; exit 1; }
port=$(free_port)
AGENTGATE_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --database "$db" 2>"$work/server.log" &
pid=$!
pids+=("$pid")
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
snapshot() { # one line per thread: name, utime+stime (ticks), context switches
  for task in /proc/"$pid"/task/*; do
    fields=($(sed 's/.*) //' "$task/stat"))
    switches=$(awk '/ctxt_switches/ {s += $2} END {print s}' "$task/status")
    echo "$(cat "$task/comm")|$((fields[11] + fields[12]))|$switches"
  done
}
snapshot >"$work/before"
head -n1 /proc/stat >"$work/stat_before"
/usr/bin/time -f "%U %S" -o "$work/wrk_cpu" \
  wrk -t8 -c8 -d"${seconds}s" --timeout 30s -s "$BENCH_LUA/change.lua" \
  "http://127.0.0.1:$port/api/v1/Agents/User/ChangeOwnPassword" -- u "$format" >"$work/wrk.txt" 2>&1
snapshot >"$work/after"
head -n1 /proc/stat >"$work/stat_after"
python3 - "$work" "$seconds" "$(getconf CLK_TCK)" <<'PY'
import collections, json, sys
work, seconds, tick = sys.argv[1], int(sys.argv[2]), 1000 / int(sys.argv[3])
result = json.loads(next(l for l in open(f"{work}/wrk.txt") if l.startswith("BENCH "))[6:])
changes = result["expected"]
def group(name):
    if name.startswith("agentgate-argon") or "hash" in name: return "hashing"
    if name.startswith("sqlx-sqlite"): return "sqlite"
    if name.startswith("actix") or name.startswith("tokio"): return "workers"
    return "other"
def load(path):
    sums = collections.defaultdict(lambda: [0, 0])
    for line in open(path):
        name, cpu, switches = line.rstrip("\n").rsplit("|", 2)
        sums[group(name)][0] += int(cpu); sums[group(name)][1] += int(switches)
    return sums
before, after = load(f"{work}/before"), load(f"{work}/after")
user, system = map(float, open(f"{work}/wrk_cpu").read().split()[-2:])
parts = [f"{changes / seconds:.1f} changes/s"]
for g in ("hashing", "sqlite", "workers", "other"):
    cpu = (after[g][0] - before[g][0]) * tick / changes
    switches = (after[g][1] - before[g][1]) / changes
    parts.append(f"{g} {cpu:.2f} ms {switches:.1f} cs")
parts.append(f"wrk {(user + system) * 1000 / changes:.2f} ms")
# Every core's busy time (not idle or iowait), whoever spent it: the server, wrk, and what
# they make the kernel do elsewhere (the file system's journal thread, say).
def busy(path):
    fields = [int(f) for f in open(path).read().split()[1:9]]
    return sum(fields) - fields[3] - fields[4]
machine = (busy(f"{work}/stat_after") - busy(f"{work}/stat_before")) * tick / changes
parts.append(f"machine {machine:.2f} ms")
print("  ".join(parts))
PY
