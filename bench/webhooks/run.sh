#!/usr/bin/env bash
# Webhook intake benchmark: Tandem vs R1 (express + @hubspot/api-client) vs R2 (node:http),
# each verifying v3 signatures, deduplicating and appending events durably with one fsync per
# group of concurrent requests. wrk on loopback; every request is a fresh, freshly signed delivery.
#
# Usage: bench/webhooks/run.sh TANDEM_BINARY [DURATION_SECONDS] [CONNECTIONS]
#   TANDEM_BINARY: the `tandem` binary (or build/.../tests/webhooks/intake_cli_test_tool), run as
#   `serve --config`. Output: one line per peer and batch size, and a Markdown table at the end.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tandem="${1:?usage: run.sh TANDEM_BINARY [DURATION_SECONDS] [CONNECTIONS]}"
duration="${2:-10}"
connections="${3:-32}"
threads=2
port=18731
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pid=
export SECRET="bench-secret-$(date +%s)"
export PUBLIC_BASE_URL="https://bench.example.com"
export HUBSPOT_BENCH_CLIENT_SECRET="$SECRET"
ticks="$(getconf CLK_TCK)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

wait_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "server did not start on $port" >&2
  return 1
}

start_peer() {
  local peer="$1" dir="$2"
  case "$peer" in
    tandem)
      cat >"$dir/tandem.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  public_url: $PUBLIC_BASE_URL
hubspot:
  app_id: "9393361"
  client_id: bench
  client_secret: {env: HUBSPOT_BENCH_CLIENT_SECRET}
store:
  path: $dir/inbox.db
log:
  level: warn
YAML
      "$tandem" serve --config "$dir/tandem.yaml" >"$dir/server.log" 2>&1 &
      ;;
    r1) node "$here/r1_express.js" "$port" "$dir/events.ndjson" >"$dir/server.log" 2>&1 & ;;
    r2) node "$here/r2_node_http.js" "$port" "$dir/events.ndjson" >"$dir/server.log" 2>&1 & ;;
  esac
  pid=$!
}

results=()
for events in 1 10 100; do
  for peer in tandem r2 r1; do
    dir="$work/$peer-$events"
    mkdir -p "$dir"
    start_peer "$peer" "$dir"
    if ! wait_port; then cat "$dir/server.log" >&2; exit 1; fi
    # Warm-up (JIT, page cache), not measured.
    EVENTS="$events" wrk -t"$threads" -c"$connections" -d2s -s "$here/signed_deliveries.lua" "http://127.0.0.1:$port/webhooks/hubspot" >/dev/null
    before="$(cpu_ticks "$pid")"
    out="$(EVENTS="$events" wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/signed_deliveries.lua" \
      "http://127.0.0.1:$port/webhooks/hubspot")"
    after="$(cpu_ticks "$pid")"
    rss="$(peak_rss_mb "$pid")"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    line="$(grep '^RESULT' <<<"$out")"
    cpu="$(awk -v a="$after" -v b="$before" -v t="$ticks" -v d="$duration" 'BEGIN {printf "%.0f", (a - b) / t / d * 100}')"
    echo "$peer $line cpu_percent=$cpu peak_rss_mb=$rss"
    results+=("$peer $line cpu_percent=$cpu peak_rss_mb=$rss")
  done
done

echo
echo "| peer | events/req | req/s | events/s | p50 ms | p99 ms | non-2xx | CPU % | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do
  awk '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, v["events"], v["req_per_s"], v["events_per_s"],
      v["p50_ms"], v["p99_ms"], v["non2xx"], v["cpu_percent"], v["peak_rss_mb"]
  }' <<<"$r"
done
