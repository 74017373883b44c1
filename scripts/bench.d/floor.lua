-- The floor: the same POST as unauthorized.lua, to the bare handler answering 200 true.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
function expected(status, body) return status == 200 and body == "true" end
