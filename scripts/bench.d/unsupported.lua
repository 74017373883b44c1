-- A 415: credentials present (not checked: the body's type is refused first), text/plain.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["Authorization"] = "Basic YmVuY2g6bm90LWNoZWNrZWQ="
wrk.body = "OldPassword a-password-1 NewPassword b-password-2"
function expected(status) return status == 415 end
