// Seeds the benchmark account through /_sandbox/seed (no webhooks), in chunks:
//   node seed.js SANDBOX_URL TOTAL READY
// Contacts 1001.. : the first READY are one step from a hand-off (they fit, and a demo request ten
// days ago gives them about 40 engagement points; a pricing page visit today makes them MQLs),
// the others are cold (students, outside the served regions).
"use strict";
const [url, totalArg, readyArg] = process.argv.slice(2);
const total = Number(totalArg), ready = Number(readyArg);
const day = 86400000, now = Date.now();
(async () => {
  const chunk = 5000;
  for (let start = 0; start < total; start += chunk) {
    const contacts = [];
    for (let i = start; i < Math.min(total, start + chunk); i++) {
      const id = 1001 + i;
      const p = i < ready
        ? { email: `ready${id}@bench.example`, firstname: "Bench", lastname: `R${id}`, company: "Bench Retail",
            jobtitle: "Head of Data", industry: "RETAIL", numberofemployees: "850", country: "Germany",
            hubspot_owner_id: ["1001", "1002", "1003"][i % 3],
            recent_conversion_event_name: "Demo request", recent_conversion_date: String(now - 10 * day) }
        : { email: `cold${id}@bench.example`, firstname: "Cold", lastname: `C${id}`, company: `Shop ${id}`,
            jobtitle: "Student", country: "Brazil", hubspot_owner_id: ["1001", "1002", "1003"][i % 3] };
      contacts.push({ id, properties: p });
    }
    const r = await fetch(`${url}/_sandbox/seed`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ contacts }) });
    if (!r.ok) throw new Error(`seed: ${r.status} ${await r.text()}`);
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
