-- wrk script: POST a short text body, the kind a backup script sends with
-- its report, to the URL given on wrk's command line (the reference's
-- /insert). Loads report.lua for the BENCH_JSON summary.
--
--   wrk -t1 -c32 -d8s --timeout 30s -s scripts/bench/post.lua http://127.0.0.1:PORT/insert

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

wrk.method = "POST"
wrk.body = "backup ok\n"
wrk.headers["Content-Type"] = "text/plain; charset=utf-8"

-- A request() hook (rather than wrk's fixed request) so that requests
-- written are counted, and so the client does the same work per request
-- as with pings.lua.
function request()
   sent = sent + 1
   return wrk.format()
end
