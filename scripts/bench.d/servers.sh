# Sourced by scripts/bench and the scripts in scripts/bench.d that start servers: a scratch
# folder `$work`, the servers' pids (`pids+=($!)`, killed with the folder on exit), a free
# port, the wait for a server's "listening on http://ADDR" line, and warm_memory (below).
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
# A freshly booted VM's memory is backed by the host only when the guest first touches it,
# and the page cache takes fresh pages for a file that grows: the logged 401s' log file
# (some 1.3 GB in a bench) paid the host's first touch of every page, not the cost of a
# log line. Measured here: 500 MB written to a file took 0.95-1.60 s of system time on
# untouched memory, 0.11-0.32 s after this warm-up. A server that has run for a while
# reuses pages the same way. warm_memory writes and frees up to 6 GiB of /dev/shm (a
# quarter of the available memory at most), about 2.6 s a GiB once, nothing after.
warm_memory() {
  local mib file=/dev/shm/agentgate-bench-warm.$$ started=$SECONDS
  mib=$(awk '/MemAvailable/ { m = int($2 / 1024 / 4); print (m > 6144 ? 6144 : m) }' /proc/meminfo)
  if dd if=/dev/zero of="$file" bs=1M count="$mib" status=none 2>/dev/null; then
    echo "   memory warmed: $mib MiB touched and freed in $((SECONDS - started)) s"
  else
    echo "   memory not warmed (no room in /dev/shm): a logged phase pays the host's first touch"
  fi
  rm -f "$file"
}
