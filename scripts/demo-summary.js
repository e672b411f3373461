// The demo's closing summary, in words a sales manager uses. Everything comes from what is in
// HubSpot (the sandbox's snapshot: contacts, owners, tasks) and from Tandem's audit (`tandem
// audit --json` for each contact of the scripted week), never from the script's expectations.
//   node scripts/demo-summary.js SNAPSHOT.json READYZ.json AUDIT_DIR CONTACT_ID...
"use strict";
const fs = require("fs");
const [snapshotFile, readyzFile, auditDir, ...ids] = process.argv.slice(2);
const snapshot = JSON.parse(fs.readFileSync(snapshotFile, "utf8"));
const readyz = JSON.parse(fs.readFileSync(readyzFile, "utf8"));
const portal = snapshot.portals[0];

const owners = new Map(portal.owners.map((o) => [String(o.id), `${o.firstName} ${o.lastName}`]));
const users = new Map(portal.owners.map((o) => [String(o.userId), `${o.firstName} ${o.lastName}`]));
const contacts = new Map(portal.objects.contacts.map((c) => [String(c.id), c.props]));
const tasks = new Map(portal.objects.tasks.map((t) => [String(t.id), t.props]));
const tasksOf = new Map();
for (const [fromType, fromId, toType, toId, typeId] of portal.associations) {
  let contact, task;
  if (fromType === 0 && toType === 1 && typeId === 203) [contact, task] = [fromId, toId];
  else if (fromType === 1 && toType === 0 && typeId === 204) [contact, task] = [toId, fromId];
  else continue;
  if (!tasksOf.has(String(contact))) tasksOf.set(String(contact), new Set());
  tasksOf.get(String(contact)).add(String(task));
}

const stageNames = {
  subscriber: "subscriber", lead: "lead (marketing nurture)", marketingqualifiedlead: "marketing qualified lead",
  salesqualifiedlead: "sales qualified lead", opportunity: "opportunity", customer: "customer",
};
const who = (id) => owners.get(String(id)) || (id ? `owner ${id}` : "nobody (no owner)");
const day = (ms) => new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 19) + " UTC";
const out = [];
const say = (s = "") => out.push(s);

const backfills = (readyz.details.pipeline || {}).backfills || [];
say("What happened, from HubSpot and Tandem's audit:");
say();
const scripted = new Set(ids);
const earlier = { review: 0, followUp: 0, escalation: 0 };
for (const [contact, set] of tasksOf) {
  if (scripted.has(contact)) continue;
  for (const t of set) {
    const subject = (tasks.get(t) || {}).hs_task_subject || "";
    if (subject.startsWith("Review new MQL")) earlier.review++;
    else if (subject.startsWith("No follow-up yet")) earlier.followUp++;
    else if (subject.startsWith("Escalation")) earlier.escalation++;
  }
}
for (const b of backfills) {
  say(`Day one: Tandem evaluated the ${b.contacts} contacts already in the account${b.finished ? "" : " (still running)"}; ` +
      `${earlier.review} of them were ready for sales and went to their managers for review.`);
  if (earlier.followUp)
    say(`  Nobody called ${earlier.followUp} of those in time: ${earlier.followUp} follow-up task(s) for their reps, ` +
        `${earlier.escalation} escalation(s) to their managers.`);
}

let handedOver = 0, reviews = 0, returns = 0, leaks = 0, escalations = 0, inTime = 0;
for (const id of ids) {
  const audit = JSON.parse(fs.readFileSync(`${auditDir}/${id}.json`, "utf8"));
  const c = contacts.get(id) || {};
  const name = `${c.firstname || ""} ${c.lastname || ""}`.trim() || c.email || `contact ${id}`;
  say();
  say(`${name}${c.company ? ` (${c.company})` : ""}, owner ${who(c.hubspot_owner_id)}: now ${stageNames[c.lifecyclestage] || c.lifecyclestage || "no stage"}`);
  let handoffAt = 0, followedUp = false;
  for (const d of audit.decisions) {
    const detail = d.detail || {};
    const taskActions = (detail.actions || []).filter((a) => a.kind === "task");
    const written = (a) => (a.written && a.written.hubspot_id ? ` (task ${a.written.hubspot_id} in HubSpot)` : " (not written yet)");
    const stage = detail.stage ? stageNames[detail.stage.to] || detail.stage.to : "";
    if (d.kind === "handoff") {
      handedOver++;
      handoffAt = d.at;
      const t = taskActions[0] || {};
      const direct = t.hubspot_owner_id === c.hubspot_owner_id;
      if (!direct) reviews++;
      say(`  - ${day(d.at)}: handed to sales as ${stage} by the rule "${detail.stage.rule}".`);
      say(direct ? `      ${who(t.hubspot_owner_id)} got the task "${t.hs_task_subject}"${written(t)}.`
                 : `      ${who(t.hubspot_owner_id)} (manager) got a review task "${t.hs_task_subject}"${written(t)}.`);
      say(`      Why: ${(detail.summary || "").split("\n").filter((l) => l.startsWith("- fit") || l.startsWith("- engagement")).map((l) => l.slice(2)).join("; ")}`);
    } else if (d.kind === "return_to_nurture") {
      returns++;
      const change = (detail.trigger.changes || []).find((x) => x.includes("userId:")) || "";
      const user = (change.match(/userId:(\d+)/) || [])[1];
      const r = detail.return || {};
      say(`  - ${day(d.at)}: ${user ? users.get(user) || `user ${user}` : "sales"} returned the lead (${r.reason}); back to ${stage}.`);
      say(`      Returned ${r.recycle_count} time(s); it cannot be handed over again before ${day(r.cool_off_until)}.`);
    } else if (d.kind === "follow_up_task") {
      leaks++;
      const t = taskActions[0] || {};
      say(`  - ${day(d.at)}: leak caught: nobody followed up in time. ${who(t.hubspot_owner_id)} got "${t.hs_task_subject}"${written(t)}.`);
    } else if (d.kind === "escalation") {
      escalations++;
      const t = taskActions[0] || {};
      say(`  - ${day(d.at)}: still no follow-up: escalated to ${who(t.hubspot_owner_id)} ("${t.hs_task_subject}")${written(t)}.`);
    } else if (d.kind === "stage_change") {
      say(`  - ${day(d.at)}: moved to ${stage} by the rule "${detail.stage.rule}".`);
    } else if (d.kind === "data_quality_task") {
      const t = taskActions[0] || {};
      say(`  - ${day(d.at)}: data missing; ${who(t.hubspot_owner_id)} got "${t.hs_task_subject}".`);
    }
    if (d.kind === "follow_up_task" || d.kind === "escalation") followedUp = false;
  }
  const contacted = Number(c.notes_last_contacted ? Date.parse(c.notes_last_contacted) || c.notes_last_contacted : 0);
  const hadLeak = audit.decisions.some((d) => d.kind === "follow_up_task");
  if (handoffAt && contacted > handoffAt && !hadLeak) {
    inTime++;
    say(`  - ${day(contacted)}: ${who(c.hubspot_owner_id)} followed up in time (a call logged in HubSpot): no reminder needed.`);
  }
  if (!audit.decisions.length) say("  - stays with marketing: no rule hands this contact to sales (tandem audit shows nothing to do).");
  const open = [...(tasksOf.get(id) || [])].map((t) => tasks.get(t)).filter(Boolean);
  say(`      In HubSpot now: ${open.length} task(s) on this contact.`);
}
say();
say(`In all: ${handedOver} hand-offs (${reviews} through a manager's review), ${returns} returned to nurture, ` +
    `${leaks} leak(s) caught with a follow-up task, ${escalations} escalation(s), ${inTime} follow-up(s) in time.`);
const perOwner = new Map();
for (const t of portal.objects.tasks) {
  const o = who(t.props.hubspot_owner_id);
  perOwner.set(o, (perOwner.get(o) || 0) + 1);
}
say("Tasks in HubSpot by person: " + [...perOwner.entries()].map(([o, n]) => `${o} ${n}`).join(", ") + ".");
console.log(out.join("\n"));
