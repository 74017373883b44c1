# Sourced by scripts/bench and the scripts in scripts/bench.d that start servers: a scratch
# folder `$work`, the servers' pids (`pids+=($!)`, killed with the folder on exit), a free
# port, and the wait for a server's "listening on http://ADDR" line.
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listening() { # wait_listening LOGFILE: prints the URL once the server says it listens
  for _ in $(seq 1 600); do
    if url=$(grep -o 'listening on http://[0-9.:]*' "$1" | head -n1 | sed 's/listening on //'); then
      [ -n "$url" ] && { echo "$url"; return; }
    fi
    sleep 0.1
  done
  echo "$(basename "$0"): server did not start: $(cat "$1")" >&2
  exit 1
}
