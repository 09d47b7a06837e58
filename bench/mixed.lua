-- wrk script: the mixed load of issue 12. Per request, at random: 80 % reads (40 % a list page
-- of 50, 30 % one Fabrique by id, 9.8 % the stats overview, 0.2 % the Fabriques CSV) and 20 %
-- writes (10 % a new organization, 10 % a PATCH of a Fabrique's description). Neither changes
-- a figure, so neither moves the figures' version: the overview stays cached through them (a
-- PATCH still recomputes its Fabrique's pre-aggregated row in its transaction). A write that
-- changes a figure (a transition, a seminar, a new theme) makes the next overview compute.
--
-- Environment: BENCH_IDS, a file with one Fabrique id per line (Fabriques the PATCH may edit);
-- the token comes with wrk's -H. Prints the BENCH line of latency.lua, plus the count of 5xx
-- answers and of each kind of request.
local ids = {}
local counter = 0
thread_id = thread_id or 0

local threads = {}
setup = function(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

init = function(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if #line > 0 then table.insert(ids, line) end
  end
  math.randomseed(42 + thread_id)
  fivexx = 0
  writes = 0
end

-- wrk.format replaces wrk's headers (those of -H) with the ones it is given.
local function with_json()
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  return h
end

request = function()
  local r = math.random()
  local id = ids[math.random(#ids)]
  if r < 0.40 then
    return wrk.format("GET", "/api/v1/fabriques?status=running&limit=50")
  elseif r < 0.70 then
    return wrk.format("GET", "/api/v1/fabriques/" .. id)
  elseif r < 0.798 then
    return wrk.format("GET", "/api/v1/stats/overview")
  elseif r < 0.80 then
    return wrk.format("GET", "/api/v1/exports/fabriques.csv")
  end
  writes = writes + 1
  counter = counter + 1
  if r < 0.90 then
    return wrk.format("POST", "/api/v1/organizations", with_json(), string.format(
      '{"name": "Bench %d-%d-%d", "kind": "other"}', thread_id, counter, math.random(1e9)))
  end
  return wrk.format("PATCH", "/api/v1/fabriques/" .. id, with_json(), string.format(
    '{"description": "Bench edit %d-%d"}', thread_id, counter))
end

statuses = {}
response = function(status, headers, body)
  if status >= 500 then fivexx = fivexx + 1 end
  if status >= 400 and os.getenv("BENCH_DEBUG") and not statuses[status] then
    statuses[status] = true
    io.stderr:write(string.format("mixed: %d %s\n", status, body:sub(1, 300)))
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local f, w = 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("fivexx")
    w = w + t:get("writes")
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d mean_us=%d max_us=%d non2xx=%d socket_errors=%d fivexx=%d writes=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    math.floor(latency.mean), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, f, w))
end
