// The latency phase: RATE property changes per second for SECONDS seconds, made as a person in
// HubSpot (one batch update of RATE contacts per second, X-Sandbox-Acting-User), each of which
// makes the contact a marketing qualified lead; then the time from each change to its review task
// existing in HubSpot (the task's hs_createdate in the sandbox, whose clock is this machine's).
//   node latency.js SANDBOX_URL TANDEM_URL TOKEN FIRST_ID RATE SECONDS
// Prints one JSON line.
"use strict";
const [url, tandemUrl, token, firstArg, rateArg, secondsArg] = process.argv.slice(2);
const first = Number(firstArg), rate = Number(rateArg), seconds = Number(secondsArg);
const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "X-Sandbox-Acting-User": "9001" };
const sentAt = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(url + path, { method, headers, body: body && JSON.stringify(body) });
    if (r.status === 429 && attempt < 20) { await sleep(500); continue; }
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  }
}

(async () => {
  const start = Date.now();
  let next = first, failures = 0;
  for (let s = 0; s < seconds; s++) {
    const due = start + s * 1000;
    if (Date.now() < due) await sleep(due - Date.now());
    const inputs = [];
    for (let k = 0; k < rate; k++, next++)
      inputs.push({ id: String(next), properties: { last_pricing_page_visit: String(Date.now()) } });
    const t = Date.now();
    try {
      await api("POST", "/crm/objects/2026-03/contacts/batch/update", { inputs });
      for (const i of inputs) sentAt.set(i.id, t);
    } catch (e) { failures++; console.error(e.message); }
  }
  const changed = sentAt.size;
  // Wait until Tandem has nothing left to do (no unprocessed webhook, nothing in the outbox), then
  // read the review tasks once from the sandbox's snapshot (not through the API: the account's rate
  // limit is Tandem's). Subjects name the contact ("Review new MQL: Bench R<id>").
  const metric = async (name) => {
    const text = await (await fetch(tandemUrl + "/metrics")).text();
    let sum = 0;
    for (const line of text.split("\n")) if (line.startsWith(name + " ") || line.startsWith(name + "{")) sum += Number(line.split(" ").pop());
    return sum;
  };
  const deadline = Date.now() + 300000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 3) {
    await sleep(1000);
    quiet = (await metric("tandem_inbox_depth")) + (await metric("tandem_outbox_pending")) === 0 ? quiet + 1 : 0;
  }
  const snapshot = await (await fetch(url + "/_sandbox/snapshot")).json();
  const created = new Map();
  for (const t of snapshot.portals[0].objects.tasks || []) {
    const m = /Review new MQL\W+Bench R(\d+)/.exec(t.props.hs_task_subject || "");
    if (m && !created.has(m[1])) { const v = String(t.props.hs_createdate); created.set(m[1], /^\d+$/.test(v) ? Number(v) : Date.parse(v)); }
  }
  const lat = [];
  for (const [id, t] of sentAt) if (created.has(id)) lat.push(created.get(id) - t);
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
  console.log(JSON.stringify({ kind: "latency", rate_per_s: rate, seconds, changed, tasks: lat.length, missing: changed - lat.length,
    failed_batches: failures, p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: lat.length ? lat[lat.length - 1] : null }));
})().catch((e) => { console.error(e.message); process.exit(1); });
