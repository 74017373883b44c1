-- A cheap call the upstream answers: an unknown access token, 401 after a digest lookup at
-- the origin and no hashing anywhere. Through the gateway it is a full upstream round trip
-- (and no throttle place is kept: tokens are never throttled by the guessing limit, and a
-- 401 gives the change place back), so its p99 against the same call made directly at the
-- origin is what the gateway adds.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer 8A:not-a-token-of-anyone"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
function expected(status) return status == 401 end
