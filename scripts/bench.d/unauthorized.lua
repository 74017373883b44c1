-- The cheap refusal: a JSON change without credentials, 401 before the body is read.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"OldPassword":"a-password-1","NewPassword":"b-password-2"}'
function expected(status) return status == 401 end
