-- wrk script for scripts/bench-rum.sh: POSTs one beacon (BEACON_FILE) with
-- a browser's headers. With PACE_MS set, each connection waits that many
-- milliseconds (on average; wrk's timer counts whole milliseconds, so a
-- fraction is spread over 1 ms steps) before its next request, to offer a
-- fixed share of capacity instead of as much as possible.
local f = assert(io.open(os.getenv("BEACON_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "https://shop.example.com"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "*/*"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.9"

local pace = tonumber(os.getenv("PACE_MS") or "")
if pace and pace > 0 then
  local whole = math.floor(pace)
  local frac = pace - whole
  function delay()
    if math.random() < frac then
      return whole + 1
    end
    return whole
  end
end
