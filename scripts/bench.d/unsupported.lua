-- A 415: a valid ticket (credentials are checked before the body, SPEC §4: a ticket costs a
-- store lookup, no Argon2), then a text/plain body, refused. Argument: a 7T: ticket.
dofile(os.getenv("BENCH_LUA") .. "/status.lua")
function prepare(args)
  wrk.headers["Authorization"] = "SOTicket " .. args[1]
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.body = "OldPassword a-password-1 NewPassword b-password-2"
-- Expected: 415 (a status of 400 or more to wrk; the bench reads the exact one off /metrics).
refusal = true
