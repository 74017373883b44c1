-- A thousand change requests in flight: every one verifies the old password with Argon2 (19 MiB
-- while it runs), then the policy refuses the new one, so nothing changes and nothing counts
-- toward throttling; the surplus beyond the hashing queue gets 503. Argument: a 7T: ticket.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
function prepare(args)
  wrk.headers["Authorization"] = "SOTicket " .. args[1]
  wrk.body = '{"OldPassword":"' .. args[2] .. '","NewPassword":"short"}'
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function expected(status, body) return status == 200 or status == 503 end
