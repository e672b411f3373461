-- wrk script: every request is a fresh HubSpot delivery of EVENTS events (unique ids, so nothing
-- is a duplicate), signed with X-HubSpot-Signature-v3 at the moment it is built (HMAC-SHA256 from
-- libcrypto through LuaJIT's FFI), so timestamps are always inside the 5-minute window.
-- Environment: EVENTS (1), SECRET, PUBLIC_BASE_URL, WEBHOOK_PATH (/webhooks/hubspot).

local ffi = require("ffi")
local bit = require("bit")
ffi.cdef [[
  unsigned char *HMAC(const void *evp_md, const void *key, int key_len, const unsigned char *d, size_t n,
                      unsigned char *md, unsigned int *md_len);
  const void *EVP_sha256(void);
]]
local crypto = ffi.load("crypto")

local events = tonumber(os.getenv("EVENTS") or "1")
local secret = os.getenv("SECRET") or "bench-secret"
local base = os.getenv("PUBLIC_BASE_URL") or "https://bench.example.com"
local path = os.getenv("WEBHOOK_PATH") or "/webhooks/hubspot"
local uri = base .. path

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(bytes, n)
  local out = {}
  for i = 0, n - 1, 3 do
    local a, b, c = bytes[i], (i + 1 < n) and bytes[i + 1] or 0, (i + 2 < n) and bytes[i + 2] or 0
    local v = bit.bor(bit.lshift(a, 16), bit.lshift(b, 8), c)
    out[#out + 1] = alphabet:sub(bit.rshift(v, 18) + 1, bit.rshift(v, 18) + 1)
    out[#out + 1] = alphabet:sub(bit.band(bit.rshift(v, 12), 63) + 1, bit.band(bit.rshift(v, 12), 63) + 1)
    out[#out + 1] = (i + 1 < n) and alphabet:sub(bit.band(bit.rshift(v, 6), 63) + 1, bit.band(bit.rshift(v, 6), 63) + 1) or "="
    out[#out + 1] = (i + 2 < n) and alphabet:sub(bit.band(v, 63) + 1, bit.band(v, 63) + 1) or "="
  end
  return table.concat(out)
end

local md = ffi.new("unsigned char[32]")
local md_len = ffi.new("unsigned int[1]")
local function sign(message)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, message, #message, md, md_len)
  return b64(md, 32)
end

local counter = 0
local thread_base = 0

local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  thread_base = (thread_index or 0) * 1000000000 + (os.time() % 100000) * 10000
end

local parts = {}
function request()
  for i = 1, events do
    counter = counter + 1
    local id = thread_base + counter
    parts[i] = string.format(
      '{"eventId":%d,"subscriptionId":7662269,"portalId":62515,"appId":9393361,"occurredAt":1763800000000,' ..
      '"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"lifecyclestage",' ..
      '"propertyValue":"marketingqualifiedlead","changeSource":"CRM_UI","sourceId":"userId:98499705"}', id, id + 5000)
  end
  local body = "[" .. table.concat(parts, ",", 1, events) .. "]"
  local ts = string.format("%d", os.time() * 1000)
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-HubSpot-Request-Timestamp"] = ts,
    ["X-HubSpot-Signature-v3"] = sign("POST" .. uri .. body .. ts),
  }
  return wrk.format("POST", path, headers, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT events=%d requests=%d non2xx=%d socket_errors=%d req_per_s=%.0f events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    events, summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / seconds, (summary.requests - non2xx) * events / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
