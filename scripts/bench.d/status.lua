-- Shared by the cheap-request scripts (floor.lua, unauthorized.lua, unsupported.lua,
-- upstream_unauthorized.lua): thread ids, and one JSON line at the end, with no `response`
-- callback. With one, wrk copies the headers and the body of every answer into Lua; wrk
-- shares the cores with the server, and for a 401's twelve headers that copy cost more than
-- agentgate's own work: the floor replaying agentgate's 401 byte for byte made 0.77 to 0.86
-- of the floor's requests a second with the callback and 0.98 to 1.05 without it
-- (docs/PERFORMANCE.md). Without it wrk tells the answers apart by one thing, a status of 400
-- or more (`errors.status`). A script sets `refusal = true` when the answer it expects is one
-- of those, and the answers with the other kind of status are its unexpected ones; which
-- status exactly is checked on the server's side (scripts/bench's `run_checked` reads the
-- change route's counts from agentgate's /metrics before and after), or is fixed (the floors).
-- change.lua and inflight.lua build on this file (common.lua), with the callback.
threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  if prepare then prepare(args) end
end

-- The JSON line scripts/bench reads, with `good` of the requests expected.
function report(summary, latency, good)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.2f, "expected": %d, "unexpected": %d, ' ..
    '"expected_rps": %.2f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, good, summary.requests - good,
    good / seconds, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write, e.timeout,
    e.status))
end

function done(summary, latency, requests)
  local failing = summary.errors.status
  report(summary, latency, refusal and failing or summary.requests - failing)
end
