#!/usr/bin/env bash
# Write benchmark, one run: Tandem's outbox writer against `tandem sandbox` set to HubSpot's limits
# (110 requests per rolling 10 s per account), and the usual developer approach (the official Node
# client, one PATCH per contact, its built-in retry) on accounts of their own.
#
#   bench/writes/run.sh                       # builds build/release (tandem, write_bench), then runs
#
# Phases, one after the other against one sandbox:
#   single  Tandem, one account: UPDATES property updates over as many distinct contacts and TASKS
#           task creations (default 100,000 + 10,000), drained from a fresh SQLite outbox
#   node    the Node peers for NODE_SECONDS (60), at once, each on its own account:
#           node-limiter (limiterOptions: DEFAULT_LIMITER_OPTIONS) and node-plain (no limiter)
#   five    Tandem, five accounts at once, FIVE_UPDATES + FIVE_TASKS each (60,000 + 6,000), one writer
# Environment: PHASES (default "single node five"), UPDATES, TASKS, FIVE_UPDATES, FIVE_TASKS,
# NODE_SECONDS, SYNCHRONOUS (the outbox's store.synchronous: full, the default, or normal), BUILD_DIR (build/release), OUT (where the figures go, default BUILD_DIR/bench-writes),
# BUILD=0 to skip the build, BUILD_LOCK=FILE to build under `flock FILE`.
# Output: JSON lines per phase, then a Markdown summary (OUT/summary.md); everything in OUT.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/bench/writes"
build=${BUILD_DIR:-$root/build/release}
out=${OUT:-$build/bench-writes}
phases=${PHASES:-single node five}
updates=${UPDATES:-100000}
tasks=${TASKS:-10000}
five_updates=${FIVE_UPDATES:-60000}
five_tasks=${FIVE_TASKS:-6000}
node_seconds=${NODE_SECONDS:-60}
first_contact=1001  # generated contacts of a fresh sandbox account get ids from 1001 on
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/summary.md

if [[ "${BUILD:-1}" != 0 ]]; then
  echo "== building tandem and write_bench"
  lock=()
  [[ -n "${BUILD_LOCK:-}" ]] && lock=(flock "$BUILD_LOCK")
  BUILD_DIR= "${lock[@]}" "$root/scripts/build" release --target tandem write_bench >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log" >&2; exit 1; }
fi
tandem="$build/connector/tandem"
bench="$build/bench/write_bench"

pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# sandbox_cpu PHASE BEFORE_TICKS SECONDS: one JSON line with the sandbox's CPU over the phase
sandbox_cpu() {
  local after
  after=$(cpu_ticks "$pid")
  awk -v p="$1" -v b="$2" -v a="$after" -v t="$ticks" -v s="$3" -v rss="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")" \
    'BEGIN { printf "{\"kind\":\"sandbox\",\"label\":\"%s\",\"cpu_s\":%.2f,\"cpu_percent\":%.1f,\"peak_rss_mb\":%.1f}\n", p, (a - b) / t, (a - b) / t / s * 100, rss / 1024 }'
}
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }
api() { curl -sf -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$url$2"; }

{ echo "started $(date -u +%FT%TZ)"; echo "uptime before: $(uptime)"; echo "nproc: $(nproc)"; } | tee "$out/machine.txt"

echo "== sandbox"
"$tandem" sandbox --listen 127.0.0.1:0 --config "$here/sandbox.yaml" >"$out/sandbox.info" 2>"$out/sandbox.log" &
pid=$!
for _ in $(seq 100); do [[ -s "$out/sandbox.info" ]] && break; sleep 0.1; done
[[ -s "$out/sandbox.info" ]] || { echo "the sandbox did not start:" >&2; cat "$out/sandbox.log" >&2; exit 1; }
url=$(jq -r .url "$out/sandbox.info")

contacts_1001=$((updates > five_updates ? updates : five_updates))
node_contacts=$((node_seconds * 12 + 200))  # above what 11 requests/s can reach
declare -A token
for portal in 1001 1002 1003 1004 1005 2001 2002; do
  case "$portal" in
    1001) n=$contacts_1001 ;;
    100*) n=$five_updates ;;
    *) n=$node_contacts ;;
  esac
  api POST "/_sandbox/seed?portalId=$portal" "{\"generateContacts\": $n}" >/dev/null
  token[$portal]=$(api POST /_sandbox/oauth/tokens "{\"portalId\": $portal, \"expiresIn\": 86400}" | jq -r .access_token)
done
api GET /_sandbox/stats | jq -c '{kind: "seed", portals: [.portals[] | {portalId, contacts}]}' | tee "$out/seed.jsonl"

has_phase() { [[ " $phases " == *" $1 "* ]]; }

if has_phase single; then
  echo "== single: Tandem, one account, $updates updates + $tasks tasks"
  "$bench" --sandbox "$url" --db "$out/single.db" --label single --portal "1001:${token[1001]}" \
    --updates "$updates" --tasks "$tasks" --first-contact "$first_contact" --cpu-of "$pid" ${SYNCHRONOUS:+--synchronous "$SYNCHRONOUS"} | tee "$out/single.jsonl" || echo "write_bench reported a problem (ok=false)"
fi

if has_phase node; then
  echo "== node: @hubspot/api-client, one PATCH per contact, ${node_seconds} s, limiter and plain at once"
  api PUT /_sandbox/limits '{"tenSecondly": 110, "searchPerSecond": 5}' >/dev/null  # fresh rate windows
  seq0=$(api GET /_sandbox/stats | jq .requests)
  c0=$(cpu_ticks "$pid"); t0=$(now_s)
  node "$here/node_peer.js" "$url" 2001 "${token[2001]}" "$first_contact" "$node_contacts" limiter "$node_seconds" \
    >"$out/node-limiter.jsonl" 2>"$out/node-limiter.err" &
  n1=$!
  node "$here/node_peer.js" "$url" 2002 "${token[2002]}" "$first_contact" "$node_contacts" plain "$node_seconds" \
    >"$out/node-plain.jsonl" 2>"$out/node-plain.err" &
  n2=$!
  wait "$n1" || echo "node-limiter failed: $(cat "$out/node-limiter.err")" >&2
  wait "$n2" || echo "node-plain failed: $(cat "$out/node-plain.err")" >&2
  cat "$out/node-limiter.jsonl" "$out/node-plain.jsonl" | tee "$out/node.jsonl"
  # The sandbox's own count over both peers, to check theirs.
  api GET "/_sandbox/requests?since=$seq0" |
    jq -c '{kind: "sandbox_log", label: "node", requests: (.results | length),
            statuses: (.results | group_by(.status) | map({key: (.[0].status | tostring), value: length}) | from_entries)}' |
    tee -a "$out/node.jsonl"
  sandbox_cpu node "$c0" "$(elapsed "$t0")" | tee -a "$out/node.jsonl"
fi

if has_phase five; then
  echo "== five: Tandem, five accounts at once, $five_updates updates + $five_tasks tasks each"
  args=()
  for portal in 1001 1002 1003 1004 1005; do args+=(--portal "$portal:${token[$portal]}"); done
  "$bench" --sandbox "$url" --db "$out/five.db" --label five "${args[@]}" \
    --updates "$five_updates" --tasks "$five_tasks" --first-contact "$first_contact" --cpu-of "$pid" ${SYNCHRONOUS:+--synchronous "$SYNCHRONOUS"} | tee "$out/five.jsonl" || echo "write_bench reported a problem (ok=false)"
fi

echo "uptime after: $(uptime)" | tee -a "$out/machine.txt"
rm -f "$out"/*.db "$out"/*.db-wal "$out"/*.db-shm

python3 "$here/summary.py" "$out" | tee "$out/summary.md"
