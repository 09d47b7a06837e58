-- wrk script: the mixed load of issue 12, 80 % reads and 20 % writes. Each request, at random,
-- by weight (BENCH_MIX overrides them, e.g. "get=30,list=40,overview=10,org=10,patch=10"):
--
--   get      55  one Fabrique by id (a partner's sync after the change feed, a detail page)
--   list     15  a list page of 50 (status=running), the front-end's index
--   overview 10  the stats overview (the figures cache on, as by default)
--   lesson   10  a new lesson on a running Fabrique (POST)
--   patch    10  a PATCH of a Fabrique's description
--   org       0  a new organization (POST): the mix of the runs up to 2026-12-06 had 10 %; at
--                that rate the table of a few partners grows a thousandfold in a minute, and
--                PostgreSQL keeps the plans it made for the small table (a hash of every
--                organization for each Fabrique read) until autovacuum analyses it, about a
--                minute later: each GET went from 0.25 to 5 ms of database time
--
-- and, now and then, the CSV of every Fabrique (the data team's pull): one every
-- BENCH_CSV_EVERY seconds (default 10; 0 for none), on whichever connection asks first after
-- that time. The weights model a day of the service's users: a front-end shows a list page,
-- then several Fabriques; partners read Fabriques one by one after each feed page. A list page
-- costs about five GETs, so the share of lists decides most of the mix's throughput: the bench
-- prints the weights it ran next to the result.
--
-- No write of the mix changes a figure, so none moves the figures' version: the overview stays
-- cached through them, and neither a lesson nor a new description touches the pre-aggregated
-- rows. A write that changes a figure (a transition, a seminar, a new theme) makes the next
-- overview compute.
--
-- Environment: BENCH_IDS, a file with one Fabrique id per line (running Fabriques, which the
-- PATCH edits and the lessons go to); the token comes with wrk's -H. Prints the BENCH line of
-- latency.lua, plus the count of 5xx answers, of writes and of CSV downloads.
local ids = {}
local counter = 0
thread_id = thread_id or 0

local threads = {}
setup = function(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local weights = { get = 55, list = 15, overview = 10, lesson = 10, patch = 10, org = 0 }
local order = { "get", "list", "overview", "lesson", "patch", "org" }
local csv_every = tonumber(os.getenv("BENCH_CSV_EVERY") or "10")
local next_csv = 0
local cumulative = {}

init = function(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if #line > 0 then table.insert(ids, line) end
  end
  local mix = os.getenv("BENCH_MIX")
  if mix and #mix > 0 then
    for k in pairs(weights) do weights[k] = 0 end
    for k, v in string.gmatch(mix, "(%a+)=(%d+%.?%d*)") do
      assert(weights[k] ~= nil, "BENCH_MIX: unknown kind " .. k)
      weights[k] = tonumber(v)
    end
  end
  local total, sum = 0, 0
  for _, k in ipairs(order) do total = total + weights[k] end
  for _, k in ipairs(order) do
    sum = sum + weights[k]
    table.insert(cumulative, { k, sum / total })
  end
  next_csv = os.time() + csv_every
  math.randomseed(42 + thread_id)
  fivexx = 0
  writes = 0
  csvs = 0
end

-- wrk.format replaces wrk's headers (those of -H) with the ones it is given.
local function with_json()
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  return h
end

request = function()
  local id = ids[math.random(#ids)]
  if csv_every > 0 and os.time() >= next_csv then
    next_csv = os.time() + csv_every
    csvs = csvs + 1
    return wrk.format("GET", "/api/v1/exports/fabriques.csv")
  end
  local r = math.random()
  local kind = cumulative[#cumulative][1]
  for _, c in ipairs(cumulative) do
    if r < c[2] then
      kind = c[1]
      break
    end
  end
  if kind == "get" then
    return wrk.format("GET", "/api/v1/fabriques/" .. id)
  elseif kind == "list" then
    return wrk.format("GET", "/api/v1/fabriques?status=running&limit=50")
  elseif kind == "overview" then
    return wrk.format("GET", "/api/v1/stats/overview")
  end
  writes = writes + 1
  counter = counter + 1
  if kind == "lesson" then
    return wrk.format("POST", "/api/v1/fabriques/" .. id .. "/lessons", with_json(), string.format(
      '{"title": "Bench lesson %d-%d", "kind": "lesson"}', thread_id, counter))
  elseif kind == "org" then
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
  local f, w, c = 0, 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("fivexx")
    w = w + t:get("writes")
    c = c + t:get("csvs")
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d mean_us=%d max_us=%d non2xx=%d socket_errors=%d fivexx=%d writes=%d csvs=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    math.floor(latency.mean), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, f, w, c))
end
