// examples/rules/lead-rules.yaml written in JSON Logic, for the benchmark. Four rules evaluated in
// order, each result stored on the contact for the next (JSON Logic has no variables):
//   data_ok -> fit -> engagement -> not_ready -> stage (index in STAGES; -1 none).
// Contacts are given with native types: numbers, epoch-ms dates, booleans, multi-select as arrays,
// and unset properties absent. 'decay' is a custom operation (p * 0.5^(age/half_life)) added to
// both engines; JSON Logic has no power function.
'use strict';

const DAY = 86400000;
const STAGES = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'];

const v = (name) => ({ var: name });
const s = (name) => ({ var: [name, ''] });  // text, '' when unset
const present = (name) => ({ '!==': [s(name), ''] });
// A sentinel default rather than "!= null": json-logic-engine treats 0 != null as false.
const isSet = (name) => ({ '!==': [{ var: [name, '<unset>'] }, '<unset>'] });
const contains = (name, text) => ({ in: [text, s(name)] });
const endsWith = (name, suffix) => ({ '==': [{ substr: [s(name), -suffix.length] }, suffix] });
const startsWith = (name, prefix) => ({ '==': [{ substr: [s(name), 0, prefix.length] }, prefix] });
const points = (cond, p) => ({ if: [cond, p, 0] });
const age = (name) => ({ max: [0, { '-': [v('now'), v(name)] }] });

const dataOk = {
  and: [present('email'), present('company'), present('country'),
    { or: [{ '!': isSet('numberofemployees') }, { '<=': [1, v('numberofemployees'), 1000000] }] }]
};

const fit = {
  max: [0, {
    min: [100, {
      '+': [
        points({ '<=': [50, v('numberofemployees'), 5000] }, 30),
        points({ and: [isSet('numberofemployees'), { '<': [v('numberofemployees'), 10] }] }, -20),
        points({ in: [s('industry'), ['COMPUTER_SOFTWARE', 'FINANCIAL_SERVICES', 'RETAIL', 'LOGISTICS_AND_SUPPLY_CHAIN']] }, 20),
        points({ or: [contains('jobtitle', 'head of'), contains('jobtitle', 'director'), contains('jobtitle', 'chief'), startsWith('jobtitle', 'vp')] }, 25),
        points({ or: [contains('jobtitle', 'data'), contains('jobtitle', 'analytics'), contains('jobtitle', 'bi ')] }, 10),
        points({ in: [s('country'), ['Germany', 'France', 'Netherlands', 'United Kingdom', 'United States', 'Canada']] }, 15),
        points({ or: [{ in: ['Snowflake', { var: ['tech_stack', []] }] }, { in: ['BigQuery', { var: ['tech_stack', []] }] }] }, 10),
        // `email domain in [...]`: the generated addresses have no subdomains, so "ends with @domain" is the same test.
        points({ or: [endsWith('email', '@gmail.com'), endsWith('email', '@yahoo.com'), endsWith('email', '@hotmail.com')] }, -15),
        points({ '>=': [v('annualrevenue'), 5000000] }, 10)
      ]
    }]
  }]
};

// A dated signal: counts only when its condition holds and its date is set.
const signal = (cond, date, base, halfLifeDays, windowDays) => {
  const conds = [cond, isSet(date)];
  if (windowDays) conds.push({ '<=': [age(date), windowDays * DAY] });
  return { if: [{ and: conds }, { decay: [base, age(date), halfLifeDays * DAY] }, 0] };
};
const perSignal = (per, each, max, date, halfLifeDays) => ({
  if: [{ and: [isSet(per), { '>': [v(per), 0] }, isSet(date)] },
    { decay: [{ min: [max, { '*': [each, v(per)] }] }, age(date), halfLifeDays * DAY] }, 0]
});

const engagement = {
  max: [0, {
    min: [100, {
      '+': [
        signal({ '==': [s('recent_conversion_event_name'), 'Demo request'] }, 'recent_conversion_date', 50, 30),
        signal(present('last_pricing_page_visit'), 'last_pricing_page_visit', 20, 14),
        signal({ '==': [v('webinar_attended'), true] }, 'webinar_date', 15, 30, 90),
        signal(present('hs_sales_email_last_replied'), 'hs_sales_email_last_replied', 25, 30),
        perSignal('hs_analytics_num_page_views', 1, 15, 'hs_analytics_last_visit_timestamp', 30),
        perSignal('hs_email_open', 0.5, 10, 'hs_email_last_open_date', 30)
      ]
    }]
  }]
};

const notReady = {
  or: [
    { or: [contains('jobtitle', 'student'), contains('jobtitle', 'intern')] },
    { or: [endsWith('email', '@rivaldata.com'), { '==': [s('company'), 'Rival Data'] }] },
    { and: [{ or: [endsWith('email', '@gmail.com'), endsWith('email', '@yahoo.com')] }, { '!': present('company') }] },
    { '!': v('data_ok') },
    { '==': [v('hs_email_optout'), true] }
  ]
};

const current = { if: STAGES.flatMap((st, i) => [{ '==': [s('lifecyclestage'), st] }, i]).concat([-1]) };
const stage = {
  if: [
    { and: [{ '>': [current, 1] }, { or: [{ '==': [s('hs_lead_status'), 'BAD_TIMING'] }, { '==': [s('hs_lead_status'), 'UNQUALIFIED'] }, present('tandem_return_reason')] }] },
    1,
    {
      max: [
        current,
        { if: [{ and: [present('email'), { '>=': [v('fit'), 20] }] }, 1, -1] },
        { if: [{ and: [{ '>=': [v('fit'), 50] }, { '>=': [v('engagement'), 40] }, { '!': v('not_ready') }] }, 2, -1] },
        {
          if: [{
            and: [{ '==': [s('recent_conversion_event_name'), 'Demo request'] }, isSet('recent_conversion_date'),
              { '>=': [v('recent_conversion_date'), { '-': [v('now'), 7 * DAY] }] }, { '<=': [v('recent_conversion_date'), v('now')] },
              { '>=': [v('fit'), 40] }, { '!': v('not_ready') }]
          }, 3, -1]
        }
      ]
    }
  ]
};

module.exports = { dataOk, fit, engagement, notReady, stage, STAGES };

if (require.main === module) {
  process.stdout.write(JSON.stringify({ data_ok: dataOk, fit, engagement, not_ready: notReady, stage }, null, 1) + '\n');
}
