-- The floor: the same POST as unauthorized.lua, to the bare handler answering 200 true.
dofile(os.getenv("BENCH_LUA") .. "/status.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
-- Expected: 200 `true` (a status under 400 to wrk; the floor answers nothing else).
refusal = false
