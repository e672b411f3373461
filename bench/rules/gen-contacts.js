// Generates N contacts as HubSpot would export them (every value a string; unset values absent),
// deterministically from a seed: node gen-contacts.js N SEED > contacts.jsonl
'use strict';

const n = Number(process.argv[2] || 1000000);
let seed = Number(process.argv[3] || 42) >>> 0;
// mulberry32: small, fast, deterministic.
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;

const NOW = Date.parse('2026-11-20T10:00:00Z');
const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString();
const past = (maxDays) => NOW - Math.floor(rand() * maxDays * DAY);

// Text values use the case the rules are written in: the JSON Logic engines compare exactly,
// Tandem ignores case, and the benchmark needs all three to agree.
const domains = ['northwind.example', 'acme.example', 'globex.example', 'gmail.com', 'yahoo.com', 'hotmail.com', 'rivaldata.com', 'initech.example'];
const titles = ['head of data', 'director of marketing', 'chief data officer', 'vp engineering', 'data analyst', 'analytics engineer',
  'working student', 'marketing intern', 'software engineer', 'bi developer', 'office manager', 'ceo'];
const industries = ['COMPUTER_SOFTWARE', 'FINANCIAL_SERVICES', 'RETAIL', 'LOGISTICS_AND_SUPPLY_CHAIN', 'BANKING', 'HOSPITAL_HEALTH_CARE', 'EDUCATION'];
const countries = ['Germany', 'France', 'Netherlands', 'United Kingdom', 'United States', 'Canada', 'Japan', 'Brazil', 'India'];
const stacks = ['Snowflake', 'BigQuery', 'Redshift', 'dbt', 'Looker', 'Tableau'];
const stages = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'];
const statuses = ['NEW', 'OPEN', 'IN_PROGRESS', 'BAD_TIMING', 'UNQUALIFIED', 'CONNECTED'];
const events = ['Demo request', 'Whitepaper download', 'Newsletter signup', 'Contact us'];

const out = [];
const flush = () => { process.stdout.write(out.join('')); out.length = 0; };
for (let i = 1; i <= n; i++) {
  const p = {};
  if (chance(0.97)) p.email = 'person' + i + '@' + pick(domains);
  if (chance(0.85)) p.company = chance(0.02) ? 'Rival Data' : 'Company ' + (i % 5000);
  if (chance(0.9)) p.country = pick(countries);
  if (chance(0.9)) p.jobtitle = pick(titles);
  if (chance(0.8)) p.industry = pick(industries);
  if (chance(0.85)) p.numberofemployees = String(chance(0.1) ? Math.floor(rand() * 12) : Math.floor(rand() * 8000));
  if (chance(0.6)) p.annualrevenue = String(Math.floor(rand() * 50000000));
  if (chance(0.5)) {
    const k = 1 + Math.floor(rand() * 3);
    const s = new Set();
    for (let j = 0; j < k; j++) s.add(pick(stacks));
    p.tech_stack = [...s].join(';');
  }
  if (chance(0.9)) p.lifecyclestage = pick(stages);
  if (chance(0.3)) p.hs_lead_status = pick(statuses);
  if (chance(0.5)) {
    p.recent_conversion_event_name = pick(events);
    p.recent_conversion_date = iso(past(60));
  }
  if (chance(0.3)) p.last_pricing_page_visit = iso(past(45));
  if (chance(0.2)) {
    p.webinar_attended = chance(0.8) ? 'true' : 'false';
    p.webinar_date = iso(past(150));
  }
  if (chance(0.2)) p.hs_sales_email_last_replied = iso(past(90));
  if (chance(0.7)) {
    p.hs_analytics_num_page_views = String(Math.floor(rand() * 40));
    p.hs_analytics_last_visit_timestamp = String(past(90));  // epoch ms, as HubSpot sends some dates
  }
  if (chance(0.6)) {
    p.hs_email_open = String(Math.floor(rand() * 30));
    p.hs_email_last_open_date = iso(past(120));
  }
  if (chance(0.05)) p.hs_email_optout = 'true';
  if (chance(0.02)) p.tandem_return_reason = 'Budget frozen';
  out.push(JSON.stringify({ id: String(i), properties: p }) + '\n');
  if (out.length >= 10000) flush();
}
flush();
