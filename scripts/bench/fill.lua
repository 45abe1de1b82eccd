-- wrk script for scripts/bench-data-growth: fills Tern's HTTP API or etcd's v3 JSON gateway with unique keys, deletes
-- them, or writes a light load over a few keys. Parameters come from the environment (wrk's setup() never sees the
-- script's own arguments):
--
--   BENCH_SYSTEM   tern | etcd
--   BENCH_OP       fill   write each of BENCH_COUNT keys once: key indexes FIRST, FIRST+STEP, ..., split over the
--                         threads in contiguous shares; a thread whose share is answered writes the file
--                         $BENCH_DONE_DIR/<thread> and stops. wrk itself runs until -d or SIGINT, so the caller
--                         watches for the files and sends SIGINT.
--                  delete the same, deleting the keys (Tern: DELETE /v1/kv/KEY; etcd: POST /v3/kv/deleterange)
--                  put    overwrite a key drawn uniformly from the BENCH_COUNT keys from FIRST on, until -d/SIGINT,
--                         at most BENCH_RATE requests/s per connection when BENCH_RATE > 0 (wrk's delay())
--   BENCH_HOSTS    host:port,host:port,... the nodes; thread i (from 0) sends to node i mod n
--   BENCH_THREADS  the -t given to wrk (fill and delete split the keys by it)
--   BENCH_FIRST, BENCH_COUNT, BENCH_STEP   the key indexes, as above (STEP 1 by default)
--   BENCH_PREFIX   key i is PREFIX .. i in 12 digits (default "fill/": 17-byte keys)
--   BENCH_VALUE    value size in bytes
--   BENCH_POOL     a file of random base64 characters (the value pool, identical for both systems), of at least
--                  3 * BENCH_POOL_SLOTS + BENCH_VALUE bytes; BENCH_POOL64 the same file encoded in base64 again
--   BENCH_POOL_SLOTS, BENCH_POOL_STRIDE   the value of key i is the pool's BENCH_VALUE bytes at offset
--                  3 * ((i * STRIDE) mod SLOTS): with STRIDE prime to SLOTS and SLOTS >= the number of keys,
--                  every key has its own value, keys next to each other get far-apart (non-overlapping) slices,
--                  and the value of a key is the same whichever system or thread writes it. The characters are
--                  base64 of /dev/urandom: valid UTF-8 for Tern, 6 bits of entropy per byte, nothing a block
--                  compressor (RocksDB's, per 4-16 KiB block) can find. Offsets are multiples of 3 so that
--                  etcd's base64 of a value is a slice of BENCH_POOL64 (plus the last 1-2 bytes encoded here).
--
-- Every answer is counted by HTTP status; done() prints one machine-readable "BENCH ..." line (wrk's own --latency
-- report stays above it): requests, duration, wrk's error counts, p50/p99/max latency in microseconds, and
-- codes=200:N,404:N,... summed over the threads.

local system  = os.getenv("BENCH_SYSTEM") or "tern"
local op      = os.getenv("BENCH_OP") or "fill"
local first   = tonumber(os.getenv("BENCH_FIRST") or "0")
local count   = tonumber(os.getenv("BENCH_COUNT") or "1000")
local step    = tonumber(os.getenv("BENCH_STEP") or "1")
local prefix  = os.getenv("BENCH_PREFIX") or "fill/"
local vsize   = tonumber(os.getenv("BENCH_VALUE") or "4096")
local nthr    = tonumber(os.getenv("BENCH_THREADS") or "1")
local slots   = tonumber(os.getenv("BENCH_POOL_SLOTS") or "1")
local stride  = tonumber(os.getenv("BENCH_POOL_STRIDE") or "1")

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

local function key(i) return prefix .. string.format("%012d", i) end

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

-- ---- running (each thread has its own Lua state from here on) ----
local pool, pool64
local whole = math.floor(vsize / 3) * 3   -- the part of a value whose base64 is a slice of pool64

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. tostring(path))
  local s = f:read("*a"); f:close()
  return s
end

local function offset(i) return 3 * ((i * stride) % slots) end  -- exact: i * stride stays far below 2^53

local jsonh = {["Content-Type"] = "application/json"}
local octeth = {["Content-Type"] = "application/octet-stream"}

local function build(i)
  local k = key(i)
  if op == "delete" then
    if system == "etcd" then
      return wrk.format("POST", "/v3/kv/deleterange", jsonh, '{"key":"' .. b64(k) .. '"}')
    end
    return wrk.format("DELETE", "/v1/kv/" .. k, {}, nil)
  end
  local off = offset(i)
  if system == "etcd" then
    local q = off / 3 * 4
    local v64 = pool64:sub(q + 1, q + whole / 3 * 4)
    if whole < vsize then v64 = v64 .. b64(pool:sub(off + whole + 1, off + vsize)) end
    return wrk.format("POST", "/v3/kv/put", jsonh, '{"key":"' .. b64(k) .. '","value":"' .. v64 .. '"}')
  end
  return wrk.format("PUT", "/v1/kv/" .. k, octeth, pool:sub(off + 1, off + vsize))
end

local lo, hi, nextj
function init(args)
  math.randomseed(os.time() + 7919 * (tid or 0))
  if op ~= "delete" then
    pool = slurp(os.getenv("BENCH_POOL"))
    assert(#pool >= 3 * (slots - 1) + vsize, "the value pool is too small")
    if system == "etcd" then pool64 = slurp(os.getenv("BENCH_POOL64")) end
  end
  codes = {}
  answered = 0
  if op ~= "put" then
    -- thread t's share: j from floor(t * count / nthr) to floor((t + 1) * count / nthr) - 1 (key index first +
    -- j * step); the shares differ by one key at most, and none is empty when nthr <= count (the caller sees to it)
    local t = tid or 0
    lo = math.floor(t * count / nthr)
    hi = math.floor((t + 1) * count / nthr) - 1
    nextj = lo
  end
end

if op == "put" then
  local rate = tonumber(os.getenv("BENCH_RATE") or "0")
  if rate > 0 then
    -- wrk waits this many ms after each answer before the connection's next request: at most RATE writes/s per
    -- connection (fewer when an answer takes long; a stall shows as that request's latency)
    function delay() return math.floor(1000 / rate) end
  end
  function request()
    return build(first + math.random(0, count - 1) * step)
  end
  function response(status, headers, body)
    codes[status] = (codes[status] or 0) + 1
  end
else
  local firstcall = true
  function request()
    local j = nextj
    -- The share is sent: a thread with several connections sends its last key again until the last answers
    -- arrive (then it stops, and those requests are abandoned). With one connection per thread this never happens.
    if j > hi then j = hi end
    -- wrk calls thread 0's request() once before the run to inspect the request (script_verify_request) and
    -- never sends that one: do not count it.
    if not (firstcall and tid == 0) then nextj = nextj + 1 end
    firstcall = false
    return build(first + j * step)
  end
  function response(status, headers, body)
    codes[status] = (codes[status] or 0) + 1
    answered = answered + 1
    if answered >= hi - lo + 1 and not finished then
      finished = true
      local f = io.open((os.getenv("BENCH_DONE_DIR") or ".") .. "/" .. tostring(tid), "w")
      if f then f:write(answered, "\n"); f:close() end
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local all = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("codes") or {}) do all[code] = (all[code] or 0) + n end
  end
  local list = {}
  for code, n in pairs(all) do list[#list + 1] = code .. ":" .. n end
  table.sort(list)
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d codes=%s\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(list, ",")))
end
