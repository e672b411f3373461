#!/usr/bin/env bash
# Outbox record-path benchmark: 200,000 mixed intents in batches of 500 into a fresh database,
# with store.synchronous full, then normal; one JSON line per run (intents/s, peak RSS).
#   bench/outbox/run.sh [COUNT] [BATCH] [RUNS] [KEYS...]   (KEYS: ordered long random; default all)   (BUILD_DIR defaults to build/release, made by scripts/build)
# Not part of the test suite. The database goes to $BENCH_DIR (default: under the build dir),
# which should be on the disk Tandem would use.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
count=${1:-200000}
batch=${2:-500}
runs=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
key_styles=${*:-ordered long random}
work=${BENCH_DIR:-$build/bench-outbox}
mkdir -p "$work"
cd "$root"

echo "== building"
BUILD_DIR= "$root/scripts/build" release --target tandem_store >/dev/null
g++ -O2 -std=c++20 -I"$root" bench/outbox/outbox_bench.cpp \
  "$build/store/libtandem_store.a" "$build/hubspot/libtandem_hubspot.a" "$build/webhooks/libtandem_webhooks.a" \
  "$build/common/libtandem_common.a" -lsqlite3 -lyaml-cpp -lssl -lcrypto -pthread \
  -o "$work/outbox_bench"

for i in $(seq "$runs"); do
  for keys in $key_styles; do
    for mode in full normal; do
      "$work/outbox_bench" "$work/outbox.db" "$mode" "$count" "$batch" "$keys" 2>/dev/null
    done
  done
done
rm -f "$work"/outbox.db*
