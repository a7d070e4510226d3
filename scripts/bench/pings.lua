-- wrk script: POST "backup ok\n" to ping URLs read from a file, one path
-- (`/ping/<token>`) a line, taking the next path for every request (round
-- robin; each thread starts at a different place). Loads report.lua for the
-- BENCH_JSON summary.
--
--   wrk -t1 -c32 -d8s --timeout 30s -s scripts/bench/pings.lua http://127.0.0.1:PORT -- PATHS_FILE

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local paths = {}
local position = 0
local body = "backup ok\n"
local headers = { ["Content-Type"] = "text/plain; charset=utf-8" }

function init(args)
   local file = args[1]
   if file == nil then
      error("pings.lua: give the file of ping paths after --")
   end
   for line in io.lines(file) do
      if line:match("^/") then
         table.insert(paths, line)
      end
   end
   if #paths == 0 then
      error("pings.lua: no paths in " .. file)
   end
   -- `id` is set by report.lua's setup(); threads start apart.
   position = ((id or 0) * 997) % #paths
end

function request()
   sent = sent + 1
   position = position % #paths + 1
   return wrk.format("POST", paths[position], headers, body)
end
