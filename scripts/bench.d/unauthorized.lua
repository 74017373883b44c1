-- The cheap refusal: a JSON change without credentials, 401 before the body is read.
dofile(os.getenv("BENCH_LUA") .. "/status.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
-- Expected: 401 (a status of 400 or more to wrk; the bench reads the exact one off /metrics).
refusal = true
