-- wrk hooks shared by every measurement of scripts/bench/compare.sh.
--
-- Alone (`wrk -s report.lua URL`) it sends wrk's default GET; post.lua and
-- pings.lua load it for their done() hook. At the end of a run, done()
-- prints ONE line, `BENCH_JSON {...}`, that compare.sh parses:
--
--   requests     responses wrk read (any status)      = summary.requests
--   non2xx       responses with a status above 399     = summary.errors.status
--   sent         requests written, counted by request() in each thread
--                (null without a request() hook), less the one call wrk
--                makes on the first thread to check the request before the
--                run; sent - requests were still unanswered when wrk
--                stopped (or lost with their connection)
--   duration_s, rps (requests / duration), bytes, errors {connect, read,
--   write, timeout, status}, latency_ms {p50, p90, p99, max, mean}
--
-- Latencies are wrk's (coordinated omission included); run wrk with a long
-- --timeout, since wrk leaves slower answers out of its latency histogram.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- Every thread's count of requests written (see post.lua and pings.lua).
sent = 0

local function num(x)
   if x == nil then return "null" end
   if x ~= x or x == math.huge or x == -math.huge then return "null" end
   return string.format("%.6g", x)
end

function done(summary, latency, requests)
   local sent_total = 0
   local counted = false
   for i, thread in ipairs(threads) do
      local n = thread:get("sent")
      if n ~= nil and n > 0 then
         counted = true
         -- wrk 4 calls request() once on the first thread before the run,
         -- to see whether the request parses (nothing is sent).
         if i == 1 then n = n - 1 end
         sent_total = sent_total + n
      end
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "non2xx": %d, "sent": %s, "duration_s": %s, "rps": %s, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, '
         .. '"latency_ms": {"p50": %s, "p90": %s, "p99": %s, "max": %s, "mean": %s}}\n',
      summary.requests, e.status, counted and tostring(sent_total) or "null", num(seconds),
      num(summary.requests / seconds), summary.bytes,
      e.connect, e.read, e.write, e.timeout, e.status,
      num(latency:percentile(50) / 1000), num(latency:percentile(90) / 1000),
      num(latency:percentile(99) / 1000), num(latency.max / 1000), num(latency.mean / 1000)))
end
