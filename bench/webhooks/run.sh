#!/usr/bin/env bash
# Webhook intake benchmark: Tandem vs R1 (express + @hubspot/api-client) vs R2 (node:http),
# each verifying v3 signatures, deduplicating and appending events durably with one fsync per
# group of concurrent requests. Loopback only; every request is a fresh delivery, signed just
# before the run.
#
# Phase 1 (saturation, closed loop): wrk with signed_deliveries.lua (pre-signed request pools)
#   against every peer at 1, 10 and 100 events per request.
# Phase 2 (fixed rate, open loop): fixed_rate.cpp at R2's phase-1 req/s against Tandem and R2,
#   latency measured from each request's scheduled send time (coordinated omission corrected).
#
# Usage: bench/webhooks/run.sh TANDEM_BINARY [DURATION_SECONDS] [CONNECTIONS]
#   TANDEM_BINARY: the `tandem` binary (or build/.../tests/webhooks/intake_cli_test_tool), run as
#   `serve --config`. Output: one line per run, then Markdown tables.
# Environment:
#   PEERS    peers to run, in order (default "tandem r2 r1"). Without tandem, TANDEM_BINARY is
#            not used (pass anything, e.g. -). Phase 2 needs r2 and runs for tandem and r2.
#   POOL_MB  memory budget in MB for the wrk scripts' pre-signed pools, all threads (1536)
#   SIZES    events per request to run (default "1 10 100")
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tandem="${1:?usage: run.sh TANDEM_BINARY [DURATION_SECONDS] [CONNECTIONS]}"
duration="${2:-10}"
connections="${3:-32}"
peers="${PEERS:-tandem r2 r1}"
pool_mb="${POOL_MB:-1536}"
sizes="${SIZES:-1 10 100}"
threads=2
warmup=2
port=18731
work="$(mktemp -d)"
pid=

cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_peer() { [[ " $peers " == *" $1 "* ]]; }
for peer in $peers; do
  case "$peer" in tandem | r1 | r2) ;; *) echo "unknown peer '$peer' in PEERS (tandem, r2, r1)" >&2; exit 2 ;; esac
done
if has_peer tandem && [[ ! -x "$tandem" ]]; then
  echo "TANDEM_BINARY '$tandem' is not executable (set PEERS=\"r2 r1\" to run without Tandem)" >&2
  exit 2
fi

SECRET="bench-secret-$(date +%s)"
export SECRET
export PUBLIC_BASE_URL="https://bench.example.com"
export HUBSPOT_BENCH_CLIENT_SECRET="$SECRET"
ticks="$(getconf CLK_TCK)"
url="http://127.0.0.1:$port/webhooks/hubspot"

if has_peer r2; then
  g++ -O2 -std=c++20 "$here/fixed_rate.cpp" -lcrypto -pthread -o "$work/fixed_rate"
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# field KEY LINE: the value of KEY=VALUE in LINE
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { n = index($i, "="); if (n && substr($i, 1, n - 1) == k) print substr($i, n + 1) } }' <<<"$2"; }

# Every load-generator invocation gets its own event id range, so ids never collide, also across the
# warm-up and the measured run against the same server (the Lua script adds thread * 1e9).
run_no=0
id_base=0
new_id_base() { run_no=$((run_no + 1)); id_base=$((run_no * 100000000000)); }

# Rate guesses (req/s) per batch size: the warm-up's pool, and the floor for the measured run's pool,
# which otherwise follows the warm-up's rate (a cold warm-up can be slower than the run).
guess_rate() { case "$1" in 1) echo 20000 ;; 10) echo 8000 ;; *) echo 3000 ;; esac; }

# pool_size EVENTS REQ_PER_S SECONDS: requests per wrk thread to pre-sign, enough for REQ_PER_S (at
# least the batch size's guess) over SECONDS with 50% headroom, capped by POOL_MB (a request is
# ~330 bytes per event plus headers). Past the pool the script signs live, and reports how many in
# live_signed=.
pool_size() {
  awk -v e="$1" -v r="$2" -v g="$(guess_rate "$1")" -v s="$3" -v t="$threads" -v mb="$pool_mb" 'BEGIN {
    if (r < g) r = g
    want = int(r * s * 1.5 / t) + 64
    cap = int(mb * 1048576 / t / (e * 330 + 400))
    print (want < cap ? want : cap)
  }'
}

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
oauth:
  token_key: {env: HUBSPOT_BENCH_TOKEN_KEY}
rules:
  path: $here/../../examples/rules
store:
  path: $dir/inbox.db
log:
  level: warn
YAML
      HUBSPOT_BENCH_TOKEN_KEY=$(openssl rand -hex 32) "$tandem" serve --config "$dir/tandem.yaml" >"$dir/server.log" 2>&1 &
      ;;
    r1) node "$here/r1_express.js" "$port" "$dir/events.ndjson" >"$dir/server.log" 2>&1 & ;;
    r2) node "$here/r2_node_http.js" "$port" "$dir/events.ndjson" >"$dir/server.log" 2>&1 & ;;
  esac
  pid=$!
  if ! wait_port; then cat "$dir/server.log" >&2; exit 1; fi
}

stop_peer() {
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

# wrk_run EVENTS SECONDS POOL ID_BASE: prints wrk's RESULT line
wrk_run() {
  local out
  out="$(EVENTS="$1" POOL="$3" ID_BASE="$4" THREADS="$threads" \
    wrk -t"$threads" -c"$connections" -d"$2s" -s "$here/signed_deliveries.lua" "$url")"
  grep '^RESULT' <<<"$out"
}

# warm_up EVENTS: JIT, page cache; not measured. Sets warm_rate to the warm-up's req/s.
# (Not called in a command substitution: new_id_base must update this shell's run_no.)
warm_rate=0
warm_up() {
  local line
  new_id_base
  line="$(wrk_run "$1" "$warmup" "$(pool_size "$1" 0 "$warmup")" "$id_base")"
  warm_rate="$(field req_per_s "$line")"
}

cpu_percent() { # BEFORE AFTER SECONDS
  awk -v b="$1" -v a="$2" -v t="$ticks" -v d="$3" 'BEGIN {printf "%.0f", (a - b) / t / d * 100}'
}

# --- Phase 1: saturation (wrk, closed loop) -----------------------------------------------------
declare -A sat_req sat_events
results=()
for events in $sizes; do
  for peer in $peers; do
    dir="$work/$peer-$events"
    mkdir -p "$dir"
    start_peer "$peer" "$dir"
    warm_up "$events"
    pool="$(pool_size "$events" "$warm_rate" "$duration")"
    new_id_base
    before="$(cpu_ticks "$pid")"
    line="$(wrk_run "$events" "$duration" "$pool" "$id_base")"
    after="$(cpu_ticks "$pid")"
    rss="$(peak_rss_mb "$pid")"
    stop_peer
    rm -rf "$dir"
    cpu="$(cpu_percent "$before" "$after" "$duration")"
    echo "$peer $line cpu_percent=$cpu peak_rss_mb=$rss"
    results+=("$peer $line cpu_percent=$cpu peak_rss_mb=$rss")
    sat_req[$peer:$events]="$(field req_per_s "$line")"
    sat_events[$peer:$events]="$(field events_per_s "$line")"
  done
done

# --- Phase 2: fixed rate at R2's saturation req/s (open loop) ----------------------------------
fixed=()
if has_peer r2; then
  for events in $sizes; do
    rate="${sat_req[r2:$events]}"
    for peer in tandem r2; do
      has_peer "$peer" || continue
      dir="$work/fixed-$peer-$events"
      mkdir -p "$dir"
      start_peer "$peer" "$dir"
      warm_up "$events"
      new_id_base
      before="$(cpu_ticks "$pid")"
      out="$("$work/fixed_rate" --url "$url" --public-base "$PUBLIC_BASE_URL" --secret "$SECRET" --events "$events" \
        --rate "$rate" --duration "$duration" --connections "$connections" --id-base "$id_base")"
      after="$(cpu_ticks "$pid")"
      rss="$(peak_rss_mb "$pid")"
      stop_peer
      rm -rf "$dir"
      line="$(grep '^RESULT' <<<"$out")"
      cpu="$(cpu_percent "$before" "$after" "$(field elapsed_s "$line")")"
      echo "fixed-rate $peer $line cpu_percent=$cpu peak_rss_mb=$rss"
      fixed+=("$peer $line cpu_percent=$cpu peak_rss_mb=$rss")
    done
  done
else
  echo "fixed-rate phase skipped: it runs at R2's saturation rate and PEERS has no r2" >&2
fi

# --- Tables -------------------------------------------------------------------------------------
echo
echo "Saturation (wrk, $threads threads, $connections connections, ${duration} s after a ${warmup} s warm-up)"
echo
echo "| peer | events/req | req/s | events/s | p50 ms | p99 ms | non-2xx | CPU % | peak RSS MB | live-signed |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do
  awk '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, v["events"], v["req_per_s"], v["events_per_s"],
      v["p50_ms"], v["p99_ms"], v["non2xx"], v["cpu_percent"], v["peak_rss_mb"], v["live_signed"]
  }' <<<"$r"
done

if has_peer tandem && { has_peer r2 || has_peer r1; }; then
  echo
  echo "| events/req | Tandem/R2 events/s | Tandem/R1 events/s |"
  echo "|---|---|---|"
  for events in $sizes; do
    awk -v t="${sat_events[tandem:$events]}" -v r2="${sat_events[r2:$events]:-}" -v r1="${sat_events[r1:$events]:-}" \
      -v e="$events" 'BEGIN {
        printf "| %s | %s | %s |\n", e, (r2 > 0 ? sprintf("%.2fx", t / r2) : "-"), (r1 > 0 ? sprintf("%.2fx", t / r1) : "-")
      }'
  done
fi

if ((${#fixed[@]})); then
  echo
  echo "p99 at R2's saturation rate (fixed_rate, open loop, $connections connections, ${duration} s after a ${warmup} s wrk warm-up;"
  echo "latency from each request's scheduled send time to the end of its response)"
  echo
  echo "| peer | events/req | target req/s | achieved req/s | events/s | p50 ms | p99 ms | max ms | p99 < 20 ms | non-2xx | socket errors | unsent | CPU % | peak RSS MB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for r in "${fixed[@]}"; do
    awk '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      ok = (v["p99_ms"] + 0 < 20 && v["non2xx"] == 0 && v["socket_errors"] == 0 && v["unsent"] == 0) ? "yes" : "no"
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, v["events"], v["target_rate"],
        v["req_per_s"], v["events_per_s"], v["p50_ms"], v["p99_ms"], v["max_ms"], ok, v["non2xx"], v["socket_errors"],
        v["unsent"], v["cpu_percent"], v["peak_rss_mb"]
    }' <<<"$r"
  done
fi
