-- bench/wrk/skarbnica.lua: wrk script cycling over Skarbnica pages.
--
-- WRK_MODE   start | search | thread | mix   (default search)
-- WRK_QUERIES  the bench queries (TSV: id, kind, query, ...; column 3 is
--              taken), default ../shared/bench/queries.tsv
-- WRK_QUERIES_PL  one Polish query a line, default bench/wrk/queries-pl.txt
-- WRK_THREAD_IDS  a file of thread ids, one a line (run.sh keeps those
--              that answer 200), else
-- WRK_THREADS  highest thread id: /watek/1 .. /watek/N (default 100)
-- WRK_COOKIE   a Cookie header (private mode), optional
--
-- Each wrk thread starts at a different place in the list and cycles.
-- done() prints one line "wrkstat mode=... rps=... p50_ms=... p99_ms=..."
-- for run.sh to pick up.

local mode = os.getenv("WRK_MODE") or "search"
local paths = {}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function add_query(q)
  q = q:gsub("^%s+", ""):gsub("%s+$", "")
  if q ~= "" then
    paths[#paths + 1] = "/szukaj?q=" .. urlencode(q)
  end
end

local function load_search()
  local tsv = os.getenv("WRK_QUERIES") or "../shared/bench/queries.tsv"
  local f = io.open(tsv, "r")
  if f then
    for line in f:lines() do
      if not line:match("^#") then
        local cols = {}
        for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
        if cols[3] then add_query(cols[3]) end
      end
    end
    f:close()
  end
  local pl = os.getenv("WRK_QUERIES_PL") or "bench/wrk/queries-pl.txt"
  f = io.open(pl, "r")
  if f then
    for line in f:lines() do
      if not line:match("^#") then add_query(line) end
    end
    f:close()
  end
  if #paths == 0 then add_query("zamowienie publiczne") end
end

local function load_threads()
  local f = os.getenv("WRK_THREAD_IDS") and io.open(os.getenv("WRK_THREAD_IDS"), "r")
  if f then
    for line in f:lines() do
      if line:match("^%d+$") then paths[#paths + 1] = "/watek/" .. line end
    end
    f:close()
  end
  if #paths == 0 then
    local n = tonumber(os.getenv("WRK_THREADS") or "100")
    for i = 1, n do paths[#paths + 1] = "/watek/" .. i end
  end
end

if mode == "start" then
  paths[1] = "/"
elseif mode == "thread" then
  load_threads()
elseif mode == "mix" then
  load_search(); load_threads(); paths[#paths + 1] = "/"
else
  load_search()
end

local headers = {}
if os.getenv("WRK_COOKIE") then headers["Cookie"] = os.getenv("WRK_COOKIE") end

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local i
function init(args)
  -- tid is set by setup() before init() runs in the thread
  i = ((tid or 0) * 7919) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end

local statuses = {}
function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local errs = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "wrkstat mode=%s paths=%d requests=%d rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "socket_errors=%d non2xx3xx=%d timeouts=%d\n",
    mode, #paths, summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errs, e.status, e.timeout))
end
