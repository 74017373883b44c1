-- Shared by the bench scripts that read every answer (change.lua, inflight.lua): thread ids,
-- per-thread tallies, and one JSON line at the end. The cheap ones use status.lua.
-- A script sets `expected(status, body)`, and `request` (or `wrk.*`); this file does the rest.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  good, other = 0, 0
  if prepare then prepare(args) end
end

function tally(status, body)
  if expected(status, body) then good = good + 1 else other = other + 1 end
end

response = function(status, headers, body)
  tally(status, body)
  if advance then advance(status, body) end
end

function done(summary, latency, requests)
  local g, o = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    o = o + t:get("other")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.2f, "expected": %d, "unexpected": %d, ' ..
    '"expected_rps": %.2f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, g, o, g / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout, e.status))
end
