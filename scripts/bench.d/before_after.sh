#!/usr/bin/env bash
# Before and after in one run: the floor, the 401 of this checkout's release binary and of an
# older one, then their changes, in turn, round after round (each on its own SQLite file).
#
#   git worktree add --detach ../old 833c209 && (cd ../old && cargo build --release --bin agentgate)
#   cargo build --release -p agentgate-server --bin agentgate --example floor
#   scripts/bench.d/before_after.sh ../old/target/release/agentgate   # ROUNDS=3 SECS=8
set -e
cd "$(dirname "$0")/../.."
old=$(realpath "$1")
new=$PWD/target/release/agentgate
floor=$PWD/target/release/examples/floor
L=$PWD/scripts/bench.d
export BENCH_LUA=$L
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
rounds=${ROUNDS:-3}; secs=${SECS:-8}
for v in new old; do
  bin=${!v}
  for r in $(seq 1 $rounds); do for n in $(seq 1 8); do echo "${v}r${r}u$n"; done; done \
    | xargs -P 2 -I{} sh -c 'printf "%s\n" "Vq7!{}-mauve-otter-0" | "$0" user add {} --password-stdin --database "$1" >/dev/null 2>&1' "$bin" "sqlite://$w/$v.db"
done
start() { # start NAME CMD...: prints the port
  local port=$((30000 + RANDOM % 20000)); local name=$1; shift
  "$@" --bind 127.0.0.1:$port >$w/$name.log 2>&1 &
  echo $! > $w/$name.pid
  for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$port/ && break; sleep 0.1; done
  echo $port
}
pf=$((30000 + RANDOM % 20000)); $floor 127.0.0.1:$pf >$w/floor.log 2>&1 & fpid=$!
pn=$(AGENTGATE_LOG=warn start new $new serve --database sqlite://$w/new.db)
po=$(AGENTGATE_LOG=warn start old $old serve --database sqlite://$w/old.db)
sleep 1
E=/api/v1/Agents/User/ChangeOwnPassword
run() { wrk "$@" 2>&1 | grep '^BENCH' | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()[6:]); print(round(d["expected_rps"],1), d["p99_ms"], d["unexpected"])'; }
for r in $(seq 1 $rounds); do
  echo "r$r floor $(run -t2 -c16 -d${secs}s -s $L/floor.lua http://127.0.0.1:$pf$E)"
  echo "r$r 401-new $(run -t2 -c16 -d${secs}s -s $L/unauthorized.lua http://127.0.0.1:$pn$E)"
  echo "r$r 401-old $(run -t2 -c16 -d${secs}s -s $L/unauthorized.lua http://127.0.0.1:$po$E)"
done
for r in $(seq 1 $rounds); do
  echo "r$r change-new $(run -t8 -c8 -d${secs}s --timeout 30s -s $L/change.lua http://127.0.0.1:$pn$E -- newr${r}u json)"
  echo "r$r change-old $(run -t8 -c8 -d${secs}s --timeout 30s -s $L/change.lua http://127.0.0.1:$po$E -- oldr${r}u json)"
done
kill $fpid $(cat $w/new.pid) $(cat $w/old.pid) 2>/dev/null || true
