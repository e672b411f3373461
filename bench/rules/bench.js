// The JSON Logic side of the rules benchmark: checks that json-logic-js and json-logic-engine
// (compiled mode) agree with Tandem on every contact, then reports evaluations per second on one
// core for each, and the ratios.   node bench.js CONTACTS.jsonl TANDEM_RESULTS TANDEM_JSON
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '../..');
const jsonLogic = require(path.join(root, 'tools/node/node_modules/json-logic-js'));
const { LogicEngine } = require(path.join(root, 'tools/node/node_modules/json-logic-engine'));
const rules = require('./lead-rules.jsonlogic.js');

const NOW = Date.parse('2026-11-20T10:00:00Z');
const decay = (p, age, halfLife) => p * Math.pow(0.5, age / halfLife);

const NUMBERS = new Set(['numberofemployees', 'annualrevenue', 'hs_analytics_num_page_views', 'hs_email_open']);
const DATES = new Set(['recent_conversion_date', 'last_pricing_page_visit', 'webinar_date', 'hs_sales_email_last_replied',
  'hs_analytics_last_visit_timestamp', 'hs_email_last_open_date']);
const BOOLS = new Set(['webinar_attended', 'hs_email_optout']);

// HubSpot strings -> native values, outside the timed loop (the engines need them typed).
function native(props) {
  // The outputs are set up front so that every object keeps one shape (fair to both engines).
  const o = { now: NOW, data_ok: false, fit: 0, engagement: 0, not_ready: false };
  for (const [k, v] of Object.entries(props)) {
    if (v === '') continue;
    if (NUMBERS.has(k)) o[k] = Number(v);
    else if (DATES.has(k)) o[k] = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    else if (BOOLS.has(k)) o[k] = v === 'true';
    else if (k === 'tech_stack') o[k] = v.split(';').map((x) => x.trim());
    else o[k] = v;
  }
  return o;
}

async function main() {
  const [contactsFile, resultsFile, tandemJson] = process.argv.slice(2);
  const contacts = [];
  const rl = readline.createInterface({ input: fs.createReadStream(contactsFile), crlfDelay: Infinity });
  for await (const line of rl) if (line) contacts.push(native(JSON.parse(line).properties));
  const expected = fs.readFileSync(resultsFile, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number));
  if (expected.length !== contacts.length) throw new Error('tandem results: ' + expected.length + ' lines for ' + contacts.length + ' contacts');

  jsonLogic.add_operation('decay', decay);
  const engine = new LogicEngine();
  engine.addMethod('decay', ([p, age, halfLife]) => decay(p, age, halfLife), { deterministic: true });
  const compiled = {
    dataOk: engine.build(rules.dataOk), fit: engine.build(rules.fit), engagement: engine.build(rules.engagement),
    notReady: engine.build(rules.notReady), stage: engine.build(rules.stage)
  };

  const engines = {
    'json-logic-js': (c) => {
      c.data_ok = jsonLogic.truthy(jsonLogic.apply(rules.dataOk, c));
      c.fit = jsonLogic.apply(rules.fit, c);
      c.engagement = jsonLogic.apply(rules.engagement, c);
      c.not_ready = jsonLogic.truthy(jsonLogic.apply(rules.notReady, c));
      return jsonLogic.apply(rules.stage, c);
    },
    'json-logic-engine (compiled)': (c) => {
      c.data_ok = !!compiled.dataOk(c);
      c.fit = compiled.fit(c);
      c.engagement = compiled.engagement(c);
      c.not_ready = !!compiled.notReady(c);
      return compiled.stage(c);
    }
  };

  const tandem = JSON.parse(fs.readFileSync(tandemJson, 'utf8'));
  const rows = [{ engine: 'tandem (C++)', perSecond: tandem.per_second, seconds: tandem.seconds }];
  console.log('tandem, binding strings to typed slots included: ' + Math.round(tandem.bind_and_evaluate_per_second) + '/s');
  const n = contacts.length;
  const stage = new Int8Array(n), fit = new Float64Array(n), eng = new Float64Array(n);
  for (const [name, run] of Object.entries(engines)) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const c = contacts[i];
      stage[i] = run(c);
      fit[i] = c.fit;
      eng[i] = c.engagement;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const [s, f, e] = expected[i];
      if (stage[i] !== s || Math.abs(fit[i] - f) > 1e-6 || Math.abs(eng[i] - e) > 1e-6 * Math.max(1, Math.abs(e))) {
        if (mismatches < 5) console.error(name + ': contact ' + (i + 1) + ' differs: tandem ' + [s, f, e].join(' ') + ', ' + name + ' ' + [stage[i], fit[i], eng[i]].join(' '));
        mismatches++;
      }
    }
    if (mismatches) {
      console.error(name + ': ' + mismatches + ' of ' + n + ' contacts disagree with Tandem');
      process.exitCode = 1;
    } else {
      console.log(name + ': agrees with Tandem on all ' + n + ' contacts');
    }
    rows.push({ engine: name, perSecond: n / seconds, seconds });
  }
  const stages = {};
  for (let i = 0; i < n; i++) { const k = stage[i] >= 0 ? rules.STAGES[stage[i]] : '(none)'; stages[k] = (stages[k] || 0) + 1; }
  console.log('target stages: ' + JSON.stringify(stages));
  console.log('\nevaluations per second, one core (' + n + ' contacts):');
  const t = rows[0].perSecond;
  const tb = tandem.bind_and_evaluate_per_second;
  for (const r of rows) {
    console.log('  ' + r.engine.padEnd(30) + String(Math.round(r.perSecond)).padStart(12) + '/s' +
      (r === rows[0] ? '' : '   tandem is ' + (t / r.perSecond).toFixed(1) + 'x faster (' + (tb / r.perSecond).toFixed(1) +
        'x with its string parsing included)'));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
