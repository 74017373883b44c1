-- A cheap call the upstream answers: an unknown access token, 401 after a digest lookup at
-- the origin and no hashing anywhere. Each request sends a token of its own: through the
-- gateway, one token sent on 16 connections at once would meet the change throttle's atomic
-- places (parallel tries get no more than serial ones, SPEC §5) and mostly be 429. Through the
-- gateway every call takes and gives back a place in the gateway's store and makes a full
-- upstream round trip, so its p99 against the same call made directly at the origin is what
-- the gateway adds.
dofile(os.getenv("BENCH_LUA") .. "/status.lua")

function prepare(args)
  n = 0
end

request = function()
  n = n + 1
  local headers = {
    ["Authorization"] = "Bearer 8A:not-a-token-" .. id .. "-" .. n,
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", nil, headers, '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}')
end

-- Expected: 401 (a status of 400 or more to wrk; the bench reads the exact one off /metrics).
refusal = true
