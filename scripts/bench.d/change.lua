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

local function base64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
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
