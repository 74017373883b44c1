-- Real changes: wrk thread N (run with as many threads as connections, so each thread has one
-- connection and its requests are strictly sequential) owns user PREFIX..N and walks its
-- rotation pw(0) -> pw(1) -> ..., advancing only on `true`, so the old password is always
-- right (a wrong one would count toward throttling) and every request is a real change.
-- Arguments: PREFIX FORMAT (json, xml or form). pw(k) matches scripts/bench's user setup.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

function prepare(args)
  user = args[1] .. id
  format = args[2] or "json"
  k = 0
end

local function pw(n) return "Vq7!" .. user .. "-mauve-otter-" .. n end

-- Three bytes to four characters with arithmetic: wrk shares the cores with the server, so
-- what this script costs a request is counted against the changes (the bit-string version
-- before this one cost wrk about 0.2 ms a change, 1% of the cores).
local alphabet = {}
for i = 1, 64 do
  alphabet[i - 1] = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):sub(i, i)
end
local function base64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = alphabet[math.floor(v / 262144)] .. alphabet[math.floor(v / 4096) % 64] ..
      (b and alphabet[math.floor(v / 64) % 64] or "=") .. (c and alphabet[v % 64] or "=")
  end
  return table.concat(out)
end

local function form(s)
  return (s:gsub("[^%w%-%._]", function(c) return string.format("%%%02X", c:byte()) end))
end

request = function()
  local old, new = pw(k), pw(k + 1)
  local headers = { ["Authorization"] = "Basic " .. base64(user .. ":" .. old) }
  local body
  if format == "xml" then
    headers["Content-Type"] = "text/xml"
    body = "<request><OldPassword>" .. old .. "</OldPassword><NewPassword>" .. new ..
      "</NewPassword></request>"
  elseif format == "form" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = "OldPassword=" .. form(old) .. "&NewPassword=" .. form(new)
  else
    headers["Content-Type"] = "application/json"
    body = '{"OldPassword":"' .. old .. '","NewPassword":"' .. new .. '"}'
  end
  return wrk.format("POST", nil, headers, body)
end

function expected(status, body) return status == 200 and body == "true" end

function advance(status, body)
  if status == 200 and body == "true" then k = k + 1 end
end
