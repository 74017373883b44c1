#!/usr/bin/env bash
# The training load of a profile-guided build (scripts/release-pgo): runs instrumented
# binaries through what they serve in use, so that their counters record it.
#
#   scripts/bench.d/pgo_train.sh AGENTGATE FLOOR [SECONDS]
#
# AGENTGATE and FLOOR are built with `-Cprofile-generate=DIR`; each process writes its counts
# into DIR when it exits, so every server here is stopped with SIGTERM (actix's graceful
# shutdown, then `main` returns) rather than killed. The load, SECONDS each (default 4):
# the floor answering `true` and replaying agentgate's 401; agentgate's 401 without
# credentials with the access log off and on; a 415; JSON, XML and form changes; a SOAP
# change; the browser's pages, the description and the health check. Needs wrk and curl.
set -euo pipefail
agentgate=$1
floor=$2
seconds=${3:-4}
export BENCH_LUA
BENCH_LUA="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=servers.sh
source "$BENCH_LUA/servers.sh"
load() { # load LABEL THREADS CONNECTIONS URL SCRIPT [ARGS...]: SECONDS of wrk, its result checked
  local label=$1 t=$2 c=$3 url=$4 script=$5
  shift 5
  wrk -t"$t" -c"$c" -d"${seconds}s" --timeout 30s -s "$BENCH_LUA/$script" "$url" -- "$@" >"$work/wrk.txt" 2>&1
  local line
  line=$(grep '^BENCH ' "$work/wrk.txt") || { echo "pgo_train: wrk failed: $(cat "$work/wrk.txt")" >&2; exit 1; }
  python3 -c 'import json, sys
r = json.loads(sys.argv[1][6:])
print("   %-16s %8d requests, %d unexpected" % (sys.argv[2], r["requests"], r["unexpected"]))
sys.exit(1 if r["expected"] == 0 else 0)' "$line" "$label"
}
stop() { # stop PID: SIGTERM and wait, so that the process writes its profile
  kill -TERM "$1"
  wait "$1" 2>/dev/null || true
}
path=/api/v1/Agents/User/ChangeOwnPassword

echo "== training: users"
db="sqlite://$work/train.db"
pw() { echo "Vq7!$1-mauve-otter-$2"; }
for prefix in j x f; do
  for n in 1 2; do
    pw "${prefix}u$n" 0 | "$agentgate" user add "${prefix}u$n" --password-stdin --database "$db" >/dev/null 2>&1
  done
done
pw soap 0 | "$agentgate" user add soap --password-stdin --database "$db" >/dev/null 2>&1
ticket=$("$agentgate" ticket issue soap --database "$db")

echo "== training: agentgate"
port=$(free_port)
AGENTGATE_LOG=warn "$agentgate" serve --bind "127.0.0.1:$port" --database "$db" 2>"$work/agentgate.log" &
server=$!
pids+=("$server")
url=$(wait_listening "$work/agentgate.log")
load "401" 2 16 "$url$path" unauthorized.lua
load "415" 2 16 "$url$path" unsupported.lua "$ticket"
for format in json xml form; do
  load "$format changes" 2 2 "$url$path" change.lua "${format:0:1}u" "$format"
done
curl -sS -o "$work/401.http" -i -X POST -H 'Content-Type: application/json' \
  --data '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}' "$url$path" || true
for page in /healthz /openapi.json /login /password /assets/agentgate.css /metrics; do
  curl -sS -o /dev/null "$url$page"
done
old=$(pw soap 0)
new=$(pw soap 1)
curl -fsS -o /dev/null -u "soap:$old" -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'SOAPAction: "http://www.superoffice.net/ws/crm/NetServer/Services88/User/ChangeOwnPassword"' \
  --data "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><ChangeOwnPassword xmlns=\"http://www.superoffice.net/ws/crm/NetServer/Services88\"><OldPassword>$old</OldPassword><NewPassword>$new</NewPassword></ChangeOwnPassword></s:Body></s:Envelope>" \
  "$url/Remote/Services88/User.svc"
stop "$server"

port=$(free_port)
"$agentgate" serve --bind "127.0.0.1:$port" --database "$db" 2>"$work/agentgate-info.log" &
server=$!
pids+=("$server")
url=$(wait_listening "$work/agentgate-info.log")
load "401 logged" 2 16 "$url$path" unauthorized.lua
stop "$server"

echo "== training: the floor"
port=$(free_port)
"$floor" "127.0.0.1:$port" 2>"$work/floor.log" &
server=$!
pids+=("$server")
url=$(wait_listening "$work/floor.log")
load "floor" 2 16 "$url$path" floor.lua
stop "$server"
port=$(free_port)
"$floor" "127.0.0.1:$port" "$work/401.http" 2>"$work/floor-401.log" &
server=$!
pids+=("$server")
url=$(wait_listening "$work/floor-401.log")
load "floor, 401 bytes" 2 16 "$url$path" unauthorized.lua
stop "$server"
