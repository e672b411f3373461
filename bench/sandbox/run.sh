#!/bin/sh
# Benchmarks `tandem sandbox` with 100,000 contacts loaded: simple GETs, batch updates (100
# inputs each) and searches, with wrk (Debian package `wrk`) on 127.0.0.1. The sandbox is pinned
# to one core (taskset), wrk to another.
#
#   bench/sandbox/run.sh [path/to/tandem] [duration, default 10s]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tandem=${1:-$here/../../build/release/connector/tandem}
duration=${2:-10s}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed to generate the seed" >&2; exit 2; }

work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

taskset -c 0 "$tandem" sandbox --listen 127.0.0.1:0 --config "$here/bench.yaml" >"$work/info" 2>"$work/log" &
pid=$!
for _ in $(seq 50); do [ -s "$work/info" ] && break; sleep 0.1; done
[ -s "$work/info" ] || { echo "the sandbox did not start:" >&2; cat "$work/log" >&2; exit 1; }
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/info")

python3 - "$work/seed.json" <<'PY'
import json, sys
stages = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"]
contacts = [{"properties": {"email": f"c{i}@bench{i % 97}.example", "firstname": f"F{i}", "lastname": f"L{i % 500}",
                            "lifecyclestage": stages[i % 6], "numemployees": str((i * 37) % 5000)}}
            for i in range(100_000)]
json.dump({"contacts": contacts}, open(sys.argv[1], "w"))
PY
start=$(date +%s.%N)
curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$work/seed.json" "$url/_sandbox/seed" >/dev/null
end=$(date +%s.%N)
echo "seed: 100000 contacts loaded in $(python3 -c "print(round($end - $start, 2))") s (including JSON upload)"

SANDBOX_TOKEN=$(curl -sf -X POST -d '{"expiresIn": 86400}' "$url/_sandbox/oauth/tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export SANDBOX_TOKEN

for script in get_contact batch_update search; do
  echo "== $script (sandbox on 1 core, wrk -t1 -c16 -d$duration)"
  taskset -c 1 wrk -t1 -c16 -d"$duration" -s "$here/$script.lua" "$url" | grep -E "Requests/sec|Latency|Non-2xx|requests in"
done
