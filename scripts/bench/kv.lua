-- wrk script for scripts/bench-vs-etcd: the same key-value load against Tern's HTTP API or etcd's v3 JSON
-- gateway. Parameters come from the environment (wrk's setup() never sees the script's own arguments):
--
--   BENCH_SYSTEM   tern | etcd
--   BENCH_OP       put (write a random key) | get (linearizable read of a random key) | fill (write every key
--                  once, split over the threads; a thread whose share is answered writes the file
--                  $BENCH_DONE_DIR/<thread> and stops; wrk itself runs until -d or SIGINT, so the caller
--                  watches for the files and sends SIGINT)
--   BENCH_HOSTS    host:port,host:port,... the nodes; thread i (from 0) sends to node i mod n, so the
--                  connections are split over the nodes as evenly as wrk's threads allow
--   BENCH_THREADS  the -t given to wrk (fill splits the keys by it)
--   BENCH_KEYS     how many keys (default 10000); key i is "bench-key-" .. i in 6 digits: 16 bytes
--   BENCH_PREFIX   the first 10 bytes of every key (default "bench-key-")
--   BENCH_VALUE    value size in bytes (default 256), printable ASCII so that it is valid UTF-8 for Tern
--   BENCH_CODES    1: count the answers by HTTP status and print them as codes=200:N,503:N (makes wrk parse
--                  every answer, so only for slow loads)
--
-- Tern: PUT /v1/kv/{key} with the raw value as the body; GET /v1/kv/{key} (linearizable by default).
-- etcd: POST /v3/kv/put {"key":b64,"value":b64}; POST /v3/kv/range {"key":b64} (linearizable by default).
-- done() prints one machine-readable "BENCH ..." line; wrk's own --latency report stays above it.

local system  = os.getenv("BENCH_SYSTEM") or "tern"
local op      = os.getenv("BENCH_OP") or "put"
local nkeys   = tonumber(os.getenv("BENCH_KEYS") or "10000")
local prefix  = os.getenv("BENCH_PREFIX") or "bench-key-"
local vsize   = tonumber(os.getenv("BENCH_VALUE") or "256")
local nthr    = tonumber(os.getenv("BENCH_THREADS") or "1")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1 = math.floor(v / 262144) % 64
    local c2 = math.floor(v / 4096) % 64
    local c3 = math.floor(v / 64) % 64
    local c4 = v % 64
    out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1)
      .. (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local function key(i) return prefix .. string.format("%06d", i) end

-- ---- setup: one node per thread, in turn ----
local threads = {}
local hosts = nil

function setup(thread)
  if not hosts then
    hosts = {}
    for hp in string.gmatch(os.getenv("BENCH_HOSTS") or "", "[^,]+") do
      local h, p = hp:match("^(.*):(%d+)$")
      hosts[#hosts + 1] = wrk.lookup(h, p)[1]
    end
  end
  local id = #threads
  threads[#threads + 1] = thread
  if #hosts > 0 then thread.addr = hosts[(id % #hosts) + 1] end
  thread:set("tid", id)
end

-- ---- running ----
local reqs = nil   -- pre-built requests, one per key (small values), or nil (large values: built per call)
local value, value64
local lo, hi, nextkey

local function build(i)
  local k = key(i)
  if system == "etcd" then
    local body
    if op == "get" then
      body = '{"key":"' .. b64(k) .. '"}'
      return wrk.format("POST", "/v3/kv/range", {["Content-Type"] = "application/json"}, body)
    end
    body = '{"key":"' .. b64(k) .. '","value":"' .. value64 .. '"}'
    return wrk.format("POST", "/v3/kv/put", {["Content-Type"] = "application/json"}, body)
  end
  if op == "get" then return wrk.format("GET", "/v1/kv/" .. k, {}, nil) end
  return wrk.format("PUT", "/v1/kv/" .. k, {["Content-Type"] = "application/octet-stream"}, value)
end

function init(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
  local alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
  local t = {}
  for i = 1, vsize do local j = (i % #alphabet) + 1; t[i] = alphabet:sub(j, j) end
  value = table.concat(t)
  if system == "etcd" and op ~= "get" then value64 = b64(value) end
  if vsize <= 4096 then
    reqs = {}
    for i = 0, nkeys - 1 do reqs[i] = build(i) end
  end
  ok, bad = 0, 0
  if op == "fill" then
    local per = math.ceil(nkeys / nthr)
    lo = (tid or 0) * per
    hi = math.min(nkeys, lo + per) - 1
    nextkey = lo
  end
end

local function req(i)
  if reqs then return reqs[i] end
  return build(i)
end

if op == "fill" then
  local first = true
  function request()
    local i = nextkey
    if i > hi then i = hi end -- the share is sent; rewrite the last key until the last answers arrive
    -- wrk calls thread 0's request() once before the run to inspect the request (script_verify_request) and
    -- never sends that one: do not count it (at worst key lo is written twice).
    if not (first and tid == 0) then nextkey = nextkey + 1 end
    first = false
    return req(i)
  end
  function response(status, headers, body)
    if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
    if ok + bad >= hi - lo + 1 and not finished then
      finished = true
      local f = io.open((os.getenv("BENCH_DONE_DIR") or ".") .. "/" .. tostring(tid), "w")
      if f then f:write(ok, " ", bad, "\n"); f:close() end
      wrk.thread:stop()
    end
  end
else
  function request()
    return req(math.random(0, nkeys - 1))
  end
  if os.getenv("BENCH_CODES") == "1" then
    codes = {}
    function response(status, headers, body)
      codes[status] = (codes[status] or 0) + 1
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local fill = ""
  if op == "fill" then
    local o, b = 0, 0
    for _, t in ipairs(threads) do o = o + (t:get("ok") or 0); b = b + (t:get("bad") or 0) end
    fill = string.format(" fill_ok=%d fill_bad=%d", o, b)
  end
  if os.getenv("BENCH_CODES") == "1" and op ~= "fill" then
    local all = {}
    for _, t in ipairs(threads) do
      for code, n in pairs(t:get("codes") or {}) do all[code] = (all[code] or 0) + n end
    end
    local list = {}
    for code, n in pairs(all) do list[#list + 1] = code .. ":" .. n end
    table.sort(list)
    fill = fill .. " codes=" .. table.concat(list, ",")
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d%s\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, fill))
end
