#!/usr/bin/env bash
# Pipeline benchmark, one run: `tandem serve` against `tandem sandbox` set to HubSpot's limits
# (110 requests per rolling 10 s per account), on one account.
#
#   bench/pipeline/run.sh            # builds build/release (tandem), then runs both phases
#
# Phases, one after the other:
#   backfill  CONTACTS contacts (default 100,000) exist before the install; the time from the
#             install to the backfill's end, contacts per second, and the requests Tandem made per
#             second as a fraction of the account's ceiling (11/s); Tandem's peak RSS
#   latency   RATE property changes per second (default 100) for LATENCY_SECONDS (default 120), made as a
#             person in HubSpot; each makes a contact an MQL; the time from the change to its review
#             task existing in HubSpot, p50 / p90 / p99
# Environment: CONTACTS, RATE, LATENCY_SECONDS, BUILD=0 to skip the build, BUILD_LOCK=FILE to build under
# `flock FILE`, OUT (default build/release/bench-pipeline).
# Output: JSON lines (OUT/results.jsonl) and OUT/summary.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/pipeline"
build="$root/build/release"
out=${OUT:-$build/bench-pipeline}
contacts=${CONTACTS:-100000}
rate=${RATE:-100}
seconds=${LATENCY_SECONDS:-120}
ready=$((rate * seconds + 100))
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/summary.md "$out"/tandem.db*

if [[ "${BUILD:-1}" != 0 ]]; then
  echo "== building tandem"
  lock=()
  [[ -n "${BUILD_LOCK:-}" ]] && lock=(flock "$BUILD_LOCK")
  "${lock[@]}" "$root/scripts/build" release --target tandem >"$out/build.log" 2>&1 || { tail -40 "$out/build.log" >&2; exit 1; }
fi
tandem="$build/connector/tandem"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
js() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s);console.log($1)})"; }
now_ms() { date +%s%3N; }

{ echo "started $(date -u +%FT%TZ)"; echo "uptime before: $(uptime)"; echo "nproc: $(nproc)"; } | tee "$out/machine.txt"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
secret="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
subs=$(printf '      - { subscriptionType: contact.creation }\n      - { subscriptionType: contact.merge }\n')
for p in $(sed -n 's/.*"propertyName": "\(.*\)".*/\1/p' "$root/manifests/example/src/app/webhooks/webhooks-hsmeta.json" | sort -u); do
  subs+=$'\n'"      - { subscriptionType: contact.propertyChange, propertyName: $p }"
done
cat >"$out/sandbox.yaml" <<YAML
portals:
  - id: 12345678
    timeZone: UTC
    owners:
      - { id: "1001", email: anna@bench.example, firstName: Anna, lastName: Rep, userId: 9101 }
      - { id: "1002", email: ben@bench.example, firstName: Ben, lastName: Rep, userId: 9102 }
      - { id: "1003", email: chloe@bench.example, firstName: Chloe, lastName: Rep, userId: 9103 }
      - { id: "2001", email: marc@bench.example, firstName: Marc, lastName: Manager, userId: 9201 }
      - { id: "2002", email: dana@bench.example, firstName: Dana, lastName: Manager, userId: 9202 }
      - { id: "3001", email: mia@bench.example, firstName: Mia, lastName: Marketing, userId: 9001 }
    properties:
      - { objectType: contacts, name: numberofemployees, label: Employees, type: number }
      - { objectType: contacts, name: tech_stack, label: Tech stack, type: string }
      - { objectType: contacts, name: recent_conversion_event_name, label: Recent conversion, type: string }
      - { objectType: contacts, name: recent_conversion_date, label: Recent conversion date, type: datetime }
      - { objectType: contacts, name: last_pricing_page_visit, label: Last pricing page visit, type: datetime }
      - { objectType: contacts, name: webinar_attended, label: Webinar attended, type: bool }
      - { objectType: contacts, name: webinar_date, label: Webinar date, type: datetime }
      - { objectType: contacts, name: hs_analytics_num_page_views, label: Page views, type: number }
app:
  clientSecret: $secret
  redirectUrls: [http://127.0.0.1:$port/oauth/callback]
  webhooks:
    targetUrl: http://127.0.0.1:$port/webhooks/hubspot
    subscriptions:
$subs
oauth:
  accessTokenTtlSeconds: 86400
limits:
  tenSecondly: 110
requestLogSize: 200000
YAML
echo "== sandbox"
"$tandem" sandbox --listen 127.0.0.1:0 --config "$out/sandbox.yaml" >"$out/sandbox.info" 2>"$out/sandbox.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$out/sandbox.info" ]] && break; sleep 0.1; done
[[ -s "$out/sandbox.info" ]] || { echo "the sandbox did not start:" >&2; cat "$out/sandbox.log" >&2; exit 1; }
url=$(js v.url <"$out/sandbox.info")
client_id=$(js v.client_id <"$out/sandbox.info")
app_id=$(js v.app_id <"$out/sandbox.info")
echo "== seeding $contacts contacts ($ready one step from a hand-off)"
node "$here/seed.js" "$url" "$contacts" "$ready"

cat >"$out/tandem.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
hubspot:
  api_base_url: $url
  auth_base_url: $url
  app_id: "$app_id"
  client_id: $client_id
  client_secret: {env: BENCH_CLIENT_SECRET}
oauth:
  token_key: {env: BENCH_TOKEN_KEY}
store:
  path: $out/tandem.db
rules:
  path: $root/examples/rules
log:
  level: warn
YAML
BENCH_CLIENT_SECRET=$secret BENCH_TOKEN_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n') \
  "$tandem" serve --config "$out/tandem.yaml" 2>"$out/serve.log" &
tpid=$!
pids+=($tpid)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== backfill: install, then every existing contact evaluated"
seq0=$(curl -fs "$url/_sandbox/requests?since=0" | js 'v.results.length ? v.results[v.results.length-1].seq : 0')
t0=$(now_ms)
curl -fsS -L -c "$out/cookies" -b "$out/cookies" "http://127.0.0.1:$port/oauth/install" >/dev/null
while true; do
  done_=$(curl -fs "http://127.0.0.1:$port/readyz" | js '((v.details.pipeline||{}).backfills||[]).some(b=>b.finished)?"yes":"no"')
  [[ "$done_" == yes ]] && break
  sleep 0.5
done
t1=$(now_ms)
# The writes the backfill's decisions caused (the scores) drain after its last page: wait for them.
while [[ $(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^tandem_outbox_pending/ {s += $2} END {print s + 0}') != 0 ]]; do sleep 0.5; done
t2=$(now_ms)
curl -fs "$url/_sandbox/requests?since=$seq0" >"$out/backfill-requests.json"
node -e '
  const fs = require("fs");
  const log = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).results.filter(r => !r.target.startsWith("/oauth"));
  const [t0, t1, t2, contacts] = process.argv.slice(2).map(Number);
  const reads = log.filter(r => r.method === "GET" && r.target.includes("/objects/2026-03/contacts?")).length;
  const s1 = (t1 - t0) / 1000, s2 = (t2 - t0) / 1000;
  const statuses = {};
  for (const r of log) statuses[r.status] = (statuses[r.status] || 0) + 1;
  console.log(JSON.stringify({ kind: "backfill", contacts, seconds_to_last_page: s1, contacts_per_s: contacts / s1,
    read_ceiling_contacts_per_s: 1100, fraction_of_read_ceiling: contacts / s1 / 1100,
    seconds_with_writes: s2, requests: log.length, list_requests: reads, requests_per_s: log.length / s2,
    fraction_of_request_ceiling: log.length / s2 / 11, statuses }));
' "$out/backfill-requests.json" "$t0" "$t1" "$t2" "$contacts" | tee -a "$out/results.jsonl"

echo "== latency: $rate changes per second for $seconds s"
token=$(curl -fs -X POST "$url/_sandbox/oauth/tokens" -H 'Content-Type: application/json' -d '{"expiresIn": 86400}' | js v.access_token)
node "$here/latency.js" "$url" "http://127.0.0.1:$port" "$token" 1001 "$rate" "$seconds" | tee -a "$out/results.jsonl"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$tpid/status")
echo "{\"kind\":\"tandem\",\"peak_rss_mb\":$(awk -v r="$rss" 'BEGIN{printf "%.1f", r/1024}')}" | tee -a "$out/results.jsonl"
cp "$out/results.jsonl" "$out/summary.md"
echo "== done: $out/results.jsonl"
