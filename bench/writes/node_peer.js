// The peer of the write benchmark: what a HubSpot developer usually writes with the official Node
// client (@hubspot/api-client 13.x): one PATCH per contact (crm.contacts.basicApi.update), the
// client's built-in retry (numberOfApiCallRetries: it waits 10 s × attempt after a
// TEN_SECONDLY_ROLLING 429 and 200 ms × attempt after a 5xx), as fast as the client lets it.
//
//   node node_peer.js BASE_URL PORTAL TOKEN FIRST_CONTACT_ID CONTACTS MODE [SECONDS=60] [IN_FLIGHT=6] [RETRIES=6]
//
// MODE
//   limiter  limiterOptions: DEFAULT_LIMITER_OPTIONS (the client's own limiter, documented in its
//            README: at most 9 requests/s, 6 at once)
//   plain    no limiterOptions (the client's default: no limiter at all), retries only
// IN_FLIGHT calls are kept outstanding (the limiter queues them); new calls start until SECONDS
// have passed, then the ones in flight (their retries included) are awaited.
// Contacts FIRST_CONTACT_ID .. FIRST_CONTACT_ID + CONTACTS - 1 are updated in order, each once.
//
// Prints one JSON line: records written (= contacts updated), records/s from the first call to the
// last answer, HTTP attempts by status and the share answered 429. Attempts are counted from what
// the client reports: a call that succeeds is one 2xx; every failed attempt is either retried (the
// retry decorator logs "Request failed with status code [S], will retry ..." once per retry,
// counted here by S) or ends the call (its error's code). (A response middleware would be the
// obvious counter, but the generated 13.x APIs ignore the configuration's middleware.)
'use strict';

const path = require('node:path');

const clientPath = path.join(__dirname, '..', '..', 'tools', 'node', 'node_modules', '@hubspot', 'api-client');
let hubspot;
try {
  hubspot = require(clientPath);
} catch (e) {
  console.error(`@hubspot/api-client is not installed at ${clientPath} (run scripts/setup): ${e.message}`);
  process.exit(2);
}

const [base, portalArg, token, firstArg, countArg, mode, secondsArg = '60', inFlightArg = '6', retriesArg = '6'] =
  process.argv.slice(2);
if (!base || !portalArg || !token || !firstArg || !countArg || !['limiter', 'plain'].includes(mode)) {
  console.error('usage: node node_peer.js BASE_URL PORTAL TOKEN FIRST_CONTACT_ID CONTACTS limiter|plain [SECONDS] [IN_FLIGHT] [RETRIES]');
  process.exit(2);
}
const portal = Number(portalArg);
const first = Number(firstArg);
const contacts = Number(countArg);
const seconds = Number(secondsArg);
const inFlight = Number(inFlightArg);
const retries = Number(retriesArg);

const statuses = {};
let attempts = 0;
function count(status) {
  attempts += 1;
  statuses[status] = (statuses[status] || 0) + 1;
}
const config = { accessToken: token, basePath: base, numberOfApiCallRetries: retries };
if (mode === 'limiter') config.limiterOptions = hubspot.DEFAULT_LIMITER_OPTIONS;
const client = new hubspot.Client(config);

// The client's retry decorator logs every retry on stderr: count them by status instead.
let retryLines = 0;
const consoleError = console.error;
console.error = (...args) => {
  const m = typeof args[0] === 'string' && /^Request failed with status code \[(\d+)\]/.exec(args[0]);
  if (m) {
    retryLines += 1;
    count(m[1]);
  } else consoleError(...args);
};

async function main() {
  let next = 0;
  let written = 0;
  const failures = {};
  let firstCall = 0;
  let lastAnswer = 0;
  const started = Date.now();
  const deadline = started + seconds * 1000;

  async function worker() {
    while (Date.now() < deadline && next < contacts) {
      const id = String(first + next);
      const n = next;
      next += 1;
      if (!firstCall) firstCall = Date.now();
      try {
        await client.crm.contacts.basicApi.update(id, {
          properties: { jobtitle: `node title ${n} of ${id}`, city: `city-${n % 101}` },
        });
        written += 1;
        count('200');
      } catch (e) {
        const key = String(e.code || e.message || 'error');
        failures[key] = (failures[key] || 0) + 1;
        count(e.code ? String(e.code) : 'no-answer');
      }
      lastAnswer = Date.now();
    }
  }

  await Promise.all(Array.from({ length: inFlight }, () => worker()));
  const elapsed = (lastAnswer - firstCall) / 1000;
  const count429 = statuses[429] || 0;
  console.log(
    JSON.stringify({
      peer: `node-${mode}`,
      portal,
      seconds_requested: seconds,
      in_flight: inFlight,
      retries,
      records_written: written,
      elapsed_s: Number(elapsed.toFixed(3)),
      records_per_s: Number((written / elapsed).toFixed(2)),
      attempts,
      statuses,
      share_429: attempts ? Number((count429 / attempts).toFixed(4)) : 0,
      retry_waits: retryLines,
      failed_calls: failures,
    }),
  );
}

main().catch((e) => {
  consoleError(e);
  process.exit(1);
});
