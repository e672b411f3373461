#!/usr/bin/env bash
# Rules benchmark, one run: generate contacts, check that Tandem, json-logic-js and
# json-logic-engine (compiled) agree on every contact, report evaluations/s per core and ratios,
# then time `tandem rules simulate` over the same contacts with peak memory.
#   bench/rules/run.sh [COUNT]        (default 1000000; BUILD_DIR defaults to build/release, made by scripts/build)
# Not part of the test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
count=${1:-1000000}
work=$build/bench-rules
at=2026-11-20T10:00:00Z
mkdir -p "$work"
cd "$root"

echo "== building"
BUILD_DIR= "$root/scripts/build" release --target tandem_rules tandem >/dev/null
g++ -O2 -std=c++20 -I"$root" bench/rules/rules_bench.cpp \
  "$build/rules/libtandem_rules.a" "$build/common/libtandem_common.a" -lyaml-cpp -ldate-tz -lssl -lcrypto -pthread \
  -o "$work/rules_bench"

echo "== generating $count contacts (seed 42)"
node bench/rules/gen-contacts.js "$count" 42 > "$work/contacts.jsonl"
ls -l "$work/contacts.jsonl" | awk '{print "   " $5 " bytes"}'

echo "== tandem"
"$work/rules_bench" examples/rules/lead-rules.yaml "$work/contacts.jsonl" "$at" "$work/tandem-results.txt" | tee "$work/tandem.json"

echo "== json-logic-js and json-logic-engine"
node --max-old-space-size=8192 bench/rules/bench.js "$work/contacts.jsonl" "$work/tandem-results.txt" "$work/tandem.json"

echo "== tandem rules simulate over $count contacts (JSON-lines, parsing included)"
/usr/bin/time -v "$build/connector/tandem" rules simulate --rules examples/rules/lead-rules.yaml \
  --contacts "$work/contacts.jsonl" --at "$at" > "$work/simulate.txt" 2> "$work/simulate-time.txt"
head -12 "$work/simulate.txt"
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$work/simulate-time.txt"
