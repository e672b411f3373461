#!/usr/bin/env python3
"""Markdown summary of one bench/writes/run.sh run: python3 summary.py OUT_DIR (reads OUT_DIR/*.jsonl)."""
import json
import os
import sys

out = sys.argv[1]
lines = []
for name in ("single", "node", "five"):
    path = os.path.join(out, name + ".jsonl")
    if not os.path.exists(path):
        continue
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            lines.append(json.loads(line))


def pick(kind, label=None, peer=None):
    return [l for l in lines if l.get("kind") == kind and (label is None or l.get("label") == label)
            and (peer is None or l.get("peer") == peer)]


def pct(v):
    return "-" if v is None else f"{v * 100:.1f}%"


def num(v):
    return "-" if v is None else str(v)


def yes(ok):
    return "yes" if ok else "**no**"


CEILING = 1100.0
print("# Write benchmark summary\n")
single = pick("run", "single")
single_rate = None
if single:
    r = single[0]
    a = pick("account", "single")[0]
    single_rate = r["records_per_s"]
    print("## Tandem, one account (ceiling 1,100 records/s: 11 requests/s x 100 records)\n")
    print("| records | drain s | records/s | of ceiling | steady records/s | steady of ceiling | requests | 429s | 429 share | records/request | dead | tasks in sandbox | sandbox CPU | bench CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['records_written']} | {r['drain_s']} | {r['records_per_s']} | {pct(a['fraction_of_ceiling'])} | "
          f"{num(a['steady_records_per_s'])} | {pct(a['steady_fraction_of_ceiling'])} | {r['sandbox_requests']} | "
          f"{r['sandbox_statuses'].get('429', 0)} | {pct(r['sandbox_share_429'])} | {r['records_per_request']} | {a['dead']} | "
          f"{a['tasks_in_sandbox']} | {r['sandbox_cpu_percent']}% | {r['bench_cpu_percent']}% |")
    print()
    print(f"- at least 90% of the ceiling: {yes(a['fraction_of_ceiling'] >= 0.9)}; "
          f"fewer than 1% 429s: {yes(r['sandbox_share_429'] < 0.01)}; every item written, none dead, as many new tasks in the sandbox as recorded: {yes(r['ok'])}")
    print(f"- recording the backlog into the outbox took {r['record_s']} s (not timed); first request "
          f"{r['first_request_after_start_s']} s after the writer's start\n")

peers = [l for l in lines if "peer" in l]
if peers:
    print("## The Node peers (@hubspot/api-client, one PATCH per contact, numberOfApiCallRetries)\n")
    print("| peer | seconds | records | records/s | of ceiling | HTTP attempts | 429s | 429 share | failed calls | Tandem / peer records/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in peers:
        ratio = f"{single_rate / p['records_per_s']:.0f}x" if single_rate and p["records_per_s"] else "-"
        print(f"| {p['peer']} | {p['elapsed_s']} | {p['records_written']} | {p['records_per_s']} | "
              f"{pct(p['records_per_s'] / CEILING)} | {p['attempts']} | {p['statuses'].get('429', 0)} | {pct(p['share_429'])} | "
              f"{sum(p['failed_calls'].values())} | {ratio} |")
    log = pick("sandbox_log", "node")
    if log:
        counted = sum(p["attempts"] for p in peers)
        print(f"\nThe sandbox's log over the phase: {log[0]['requests']} requests {log[0]['statuses']} "
              f"(the peers counted {counted}).")
    cpu = pick("sandbox", "node")
    if cpu:
        print(f"Sandbox CPU over the phase: {cpu[0]['cpu_percent']}% of a core.")
    print()

five = pick("run", "five")
if five:
    r = five[0]
    print("## Tandem, five accounts at once (each: ceiling 1,100 records/s)\n")
    print("| account | records | drain s | records/s | of ceiling | steady records/s | steady of ceiling | client requests | client 429s | dead | tasks in sandbox |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for a in pick("account", "five"):
        print(f"| {a['portal']} | {a['written']} | {a['drain_s']} | {a['records_per_s']} | {pct(a['fraction_of_ceiling'])} | "
              f"{num(a['steady_records_per_s'])} | {pct(a['steady_fraction_of_ceiling'])} | {a['client_requests']} | "
              f"{a['client_statuses'].get('429', 0)} | {a['dead']} | {a['tasks_in_sandbox']} |")
    print()
    print(f"- all five: {r['records_written']} records in {r['drain_s']} s = {r['records_per_s']} records/s "
          f"(ceiling {r['ceiling_records_per_s']:.0f}); sandbox: {r['sandbox_requests']} requests, "
          f"{r['sandbox_statuses'].get('429', 0)} answered 429 ({pct(r['sandbox_share_429'])})")
    print(f"- every account at least 85% of its ceiling: {yes(r['min_account_fraction_of_ceiling'] >= 0.85)} "
          f"(lowest {pct(r['min_account_fraction_of_ceiling'])}); every item written, none dead, as many new tasks in the sandbox as recorded: {yes(r['ok'])}")
    print(f"- CPU over the drain: sandbox {r['sandbox_cpu_percent']}% of a core, write_bench (writer, SQLite, its polling) "
          f"{r['bench_cpu_percent']}%")
