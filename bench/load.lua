-- wrk script for bench/http.py. Arguments (after --):
--   mode ("get" or "submit"), path, cookie header, CSRF token, max requests per thread,
--   reflection text (form-encoded)
-- "get": GET path; only 200 counts as success.
-- "submit": one connection per thread, alternating POST /portal/reflections/new (302 with the
--   new draft's Location) and POST /portal/reflections/<id> sharing it (302); anything else
--   is an error. done() prints one JSON line, summed over the threads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode, path, cookie, token = args[1], args[2], args[3], args[4]
  max_requests = tonumber(args[5]) or 0
  text = args[6] or ""
  ok, bad, news, shares, capped, pending = 0, 0, 0, 0, 0, nil
  statuses = {}  -- unexpected status -> count
end

local function failed(status)
  bad = bad + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function request()
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  if mode == "get" then
    return wrk.format("GET", path, headers)
  end
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  if pending then
    return wrk.format("POST", "/portal/reflections/" .. pending, headers,
      "csrf_token=" .. token .. "&action=share&edit_version=1&week_rating=7" ..
      "&session_rating_skip=1&" .. text)
  end
  return wrk.format("POST", "/portal/reflections/new", headers, "csrf_token=" .. token)
end

function response(status, headers, body)
  if mode == "get" then
    if status == 200 then ok = ok + 1 else failed(status) end
  elseif pending then
    pending = nil
    if status == 302 then ok = ok + 1; shares = shares + 1 else failed(status) end
  else
    local location = headers["Location"] or headers["location"] or ""
    local id = string.match(location, "/portal/reflections/([%w%-]+)")
    if status == 302 and id then ok = ok + 1; news = news + 1; pending = id
    else failed(status) end
  end
  if max_requests > 0 and ok + bad >= max_requests then
    capped = 1  -- this thread stopped before --duration: the run's rate would be understated
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local sums = {ok = 0, bad = 0, news = 0, shares = 0, capped = 0}
  local seen = {}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(sums) do sums[key] = sums[key] + (thread:get(key) or 0) end
    for status, n in pairs(thread:get("statuses") or {}) do
      seen[status] = (seen[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(seen) do table.insert(parts, string.format('"%s": %d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    '{"ok": %d, "bad": %d, "news": %d, "shares": %d, "capped": %d, "requests": %d, ' ..
    '"duration_us": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "statuses": {%s}}\n',
    sums.ok, sums.bad, sums.news, sums.shares, sums.capped, summary.requests, summary.duration,
    e.connect + e.read + e.write, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, table.concat(parts, ", ")))
end
