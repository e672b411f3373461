-- wrk script: every request is a fresh HubSpot delivery of EVENTS events (unique ids, so nothing
-- is a duplicate), signed with X-HubSpot-Signature-v3 (HMAC-SHA256 and base64 from libcrypto
-- through LuaJIT's FFI).
--
-- Each wrk thread pre-builds and pre-signs POOL requests in init(), before the measured run
-- starts, so request() only hands out a ready string and the load generator spends its CPU on
-- the sockets rather than on JSON and HMAC. When a thread's pool is used up it keeps going by
-- building and signing requests on the fly (fresh ids, current timestamp) and counts them: the
-- RESULT line reports the total as live_signed=N (0 means the whole run came from the pools).
-- Pools are signed just before the run; a pool older than 4 minutes is dropped (live signing
-- takes over) so every timestamp is inside HubSpot's 5-minute window when it is sent.
-- There is no response() callback, so wrk does not hand headers and bodies to Lua; non2xx is
-- wrk's count of responses with status >= 400.
--
-- Environment:
--   EVENTS       events per request (1)
--   POOL         requests to pre-sign per wrk thread (1000); at 100 events a request is ~30 KB
--   ID_BASE      first event id of this invocation (default: derived from the wall clock in ms);
--                thread t uses ids ID_BASE + t * 1e9 + 1, 2, ... Give each wrk invocation against
--                the same server its own base, e.g. RUN * 1e11, so ids never collide.
--   THREADS      wrk's -t, when it cannot be read from the command line (wrk's default is 2)
--   SECRET, PUBLIC_BASE_URL, WEBHOOK_PATH (/webhooks/hubspot)
--
-- wrk calls setup() and init() for thread i and then starts thread i before it sets up thread i+1,
-- so without care thread 0 would be sending while thread 1 is still building its pool (and
-- outside wrk's measured interval). Every thread's first request() therefore waits until all
-- threads have finished init(); the count is shared through a C int allocated in setup().

local ffi = require("ffi")
ffi.cdef [[
  const void *EVP_sha256(void);
  void *HMAC_CTX_new(void);
  int HMAC_Init_ex(void *ctx, const void *key, int key_len, const void *md, void *impl);
  int HMAC_Update(void *ctx, const unsigned char *data, size_t len);
  int HMAC_Final(void *ctx, unsigned char *md, unsigned int *len);
  int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
  int usleep(unsigned int usec);
  unsigned long pthread_self(void);
  void *malloc(size_t size);
]]
local crypto = ffi.load("crypto")

local events = tonumber(os.getenv("EVENTS") or "1")
local pool_target = tonumber(os.getenv("POOL") or "1000")
local secret = os.getenv("SECRET") or "bench-secret"
local base = os.getenv("PUBLIC_BASE_URL") or "https://bench.example.com"
local path = os.getenv("WEBHOOK_PATH") or "/webhooks/hubspot"
local uri = base .. path
local THREAD_STRIDE = 1e9 -- ids per thread and invocation
local MAX_SAFE = 2 ^ 53   -- JSON numbers parsed as doubles (R1, R2) must stay exact

if not events or events < 1 or events ~= math.floor(events) then error("EVENTS must be a positive integer") end
if not pool_target or pool_target < 0 or pool_target ~= math.floor(pool_target) then
  error("POOL must be a non-negative integer")
end

local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
end

local function thread_count()
  local env = tonumber(os.getenv("THREADS") or "")
  if env then return env end
  local f = io.open("/proc/self/cmdline", "rb")
  if f then
    local args = {}
    for a in f:read("*a"):gmatch("[^%z]+") do args[#args + 1] = a end
    f:close()
    for i, a in ipairs(args) do
      local v = a:match("^%-t(%d+)$") or a:match("^%-%-threads=(%d+)$")
      if not v and (a == "-t" or a == "--threads") then v = args[i + 1] end
      if v and tonumber(v) then return tonumber(v) end
    end
  end
  return 2
end

-- Main state (setup, done) -------------------------------------------------------------------

local threads = {}
local ready_counter = nil -- int32_t[1]: number of threads whose init() has finished
local id_base_default = nil

function setup(thread)
  if not ready_counter then
    ready_counter = ffi.cast("int32_t *", ffi.C.malloc(4)) -- freed at exit
    ready_counter[0] = 0
    id_base_default = (now_ms() % 90000) * 1e11
  end
  thread:set("thread_index", #threads)
  thread:set("thread_total", thread_count())
  thread:set("ready_address", tonumber(ffi.cast("uintptr_t", ready_counter)))
  thread:set("default_id_base", id_base_default)
  threads[#threads + 1] = thread
end

-- Thread state (init, request) ---------------------------------------------------------------

local md = ffi.new("unsigned char[32]")
local md_len = ffi.new("unsigned int[1]")
local b64 = ffi.new("unsigned char[48]")
local hmac = nil
local prefix = "POST" .. uri
-- base64(HMAC-SHA256(secret, "POST" .. uri .. body .. ts)), without building the concatenation.
local function sign(body, ts)
  if not hmac then hmac = crypto.HMAC_CTX_new() end
  crypto.HMAC_Init_ex(hmac, secret, #secret, crypto.EVP_sha256(), nil)
  crypto.HMAC_Update(hmac, prefix, #prefix)
  crypto.HMAC_Update(hmac, body, #body)
  crypto.HMAC_Update(hmac, ts, #ts)
  crypto.HMAC_Final(hmac, md, md_len)
  local n = crypto.EVP_EncodeBlock(b64, md, 32)
  return ffi.string(b64, n)
end

local counter = 0 -- events built by this thread so far
local thread_base = 0
local parts = {}

local function build()
  for i = 1, events do
    counter = counter + 1
    local id = thread_base + counter
    parts[i] = string.format(
      '{"eventId":%d,"subscriptionId":7662269,"portalId":62515,"appId":9393361,"occurredAt":1763800000000,' ..
      '"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"lifecyclestage",' ..
      '"propertyValue":"marketingqualifiedlead","changeSource":"CRM_UI","sourceId":"userId:98499705"}', id, id + 5000)
  end
  if counter >= THREAD_STRIDE then error("a thread ran out of event ids (more than 1e9 events)") end
  local body = "[" .. table.concat(parts, ",", 1, events) .. "]"
  local ts = string.format("%d", now_ms())
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-HubSpot-Request-Timestamp"] = ts,
    ["X-HubSpot-Signature-v3"] = sign(body, ts),
  }
  return wrk.format("POST", path, headers, body)
end

-- Globals read by done() through thread:get.
pool_size = 0
live_signed = 0
presign_s = 0

local pool = {}
local pool_signed_ms = 0
local POOL_MAX_AGE_MS = 240000 -- HubSpot's window is 5 minutes; stop using older signatures
local next_index = 1
local ready = nil
local init_thread = nil
local started = false

function init(args)
  local id_base = tonumber(os.getenv("ID_BASE") or "") or default_id_base or 0
  thread_base = id_base + (thread_index or 0) * THREAD_STRIDE
  if id_base ~= math.floor(id_base) or id_base < 0 or thread_base + THREAD_STRIDE >= MAX_SAFE then
    error("ID_BASE must be a non-negative integer below 2^53 minus the threads' id ranges")
  end
  local started_at = os.clock()
  pool_signed_ms = now_ms()
  for i = 1, pool_target do pool[i] = build() end
  pool_size = pool_target
  collectgarbage() -- drop the build garbage now rather than during the run
  presign_s = os.clock() - started_at
  init_thread = ffi.C.pthread_self()
  if ready_address then
    ready = ffi.cast("int32_t *", ffi.cast("uintptr_t", ready_address))
    ready[0] = ready[0] + 1 -- init() runs on wrk's main thread, one thread after the other
  end
end

local function wait_for_all_threads()
  if not ready then return end
  local waited = 0
  while ready[0] < (thread_total or 1) do
    ffi.C.usleep(1000)
    waited = waited + 1
    if waited == 120000 then
      io.stderr:write("signed_deliveries.lua: not all threads became ready (set THREADS to wrk's -t)\n")
      return
    end
  end
end

function request()
  if not started then
    -- wrk calls request() once on its main thread right after thread 0's init() to check the
    -- request; only the calls on the worker threads wait.
    if ffi.C.pthread_self() ~= init_thread then
      wait_for_all_threads()
      started = true
    end
  end
  local r = pool[next_index]
  if r and next_index % 256 == 0 and now_ms() - pool_signed_ms > POOL_MAX_AGE_MS then
    for i = next_index, pool_size do pool[i] = nil end -- too old to pass the timestamp check
    r = nil
  end
  if r then
    pool[next_index] = nil
    next_index = next_index + 1
    return r
  end
  live_signed = live_signed + 1
  return build()
end

function done(summary, latency, requests)
  local live, pooled, presign = 0, 0, 0
  for _, t in ipairs(threads) do
    live = live + (tonumber(t:get("live_signed")) or 0)
    pooled = pooled + (tonumber(t:get("pool_size")) or 0)
    presign = presign + (tonumber(t:get("presign_s")) or 0)
  end
  local seconds = summary.duration / 1e6
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT events=%d requests=%d non2xx=%d socket_errors=%d req_per_s=%.0f events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f live_signed=%d pool=%d presign_s=%.2f\n",
    events, summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / seconds, (summary.requests - non2xx) * events / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, live, pooled, presign))
end
