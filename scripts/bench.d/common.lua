-- Shared by the bench scripts that read every answer (change.lua, inflight.lua): per-thread
-- tallies of `expected` answers, on status.lua's thread ids and JSON line, with the
-- `response` callback the cheap scripts (status.lua alone) go without.
-- A script sets `expected(status, body)`, and `request` (or `wrk.*`); this file does the rest.
dofile(os.getenv("BENCH_LUA") .. "/status.lua")

function init(args)
  good = 0
  if prepare then prepare(args) end
end

function tally(status, body)
  if expected(status, body) then good = good + 1 end
end

response = function(status, headers, body)
  tally(status, body)
  if advance then advance(status, body) end
end

function done(summary, latency, requests)
  local good = 0
  for _, t in ipairs(threads) do good = good + t:get("good") end
  report(summary, latency, good)
end
