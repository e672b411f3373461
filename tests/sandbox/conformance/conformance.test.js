// Conformance of `tandem sandbox` with the official HubSpot Node client (@hubspot/api-client 13.x).
// Usage: node conformance.test.js <path to the tandem binary>
// Exits 77 (CTest SKIP_RETURN_CODE) when the client is not installed (scripts/setup installs it).
'use strict';

const path = require('node:path');
const http = require('node:http');
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const repo = path.resolve(__dirname, '..', '..', '..');
const clientPath = path.join(repo, 'tools', 'node', 'node_modules', '@hubspot', 'api-client');
let hubspot;
try {
  hubspot = require(clientPath);
} catch (e) {
  console.log(`SKIP: @hubspot/api-client is not installed at ${clientPath} (run scripts/setup): ${e.message}`);
  process.exit(77);
}
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const tandem = process.argv[2];
if (!tandem) {
  console.error('usage: node conformance.test.js <tandem binary>');
  process.exit(2);
}

let sandbox;      // child process
let info;         // the start-up JSON line
let receiver;     // webhook target
const deliveries = [];
let waiters = [];

function startSandbox() {
  return new Promise((resolve, reject) => {
    sandbox = spawn(tandem, ['sandbox', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    sandbox.on('error', reject);
    sandbox.on('exit', (code) => reject(new Error(`sandbox exited early with ${code}`)));
    const rl = readline.createInterface({ input: sandbox.stdout });
    rl.once('line', (line) => resolve(JSON.parse(line)));
  });
}

function startReceiver() {
  return new Promise((resolve) => {
    receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url });
        res.writeHead(204).end();
        waiters = waiters.filter((w) => !w());
      });
    });
    receiver.listen(0, '127.0.0.1', () => resolve(receiver.address().port));
  });
}

function waitForDelivery(predicate, ms = 10000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = deliveries.find(predicate);
      if (hit) { resolve(hit); return true; }
      return false;
    };
    if (check()) return;
    const timer = setTimeout(() => reject(new Error('no matching webhook delivery')), ms);
    waiters.push(() => { if (check()) { clearTimeout(timer); return true; } return false; });
  });
}

async function sandboxJson(method, route, body) {
  const r = await fetch(info.url + route, {
    method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${route} -> ${r.status}`);
  return r.status === 204 ? null : r.json();
}

let client;       // authenticated with the code-exchange token
let tokens;

before(async () => {
  const port = await startReceiver();
  info = await startSandbox();
  sandbox.removeAllListeners('exit');
  for (const key of ['url', 'portal_id', 'app_id', 'client_id', 'client_secret', 'redirect_urls', 'webhook_target_url']) {
    assert.ok(key in info, `start-up line lacks ${key}`);
  }
  await sandboxJson('PUT', '/_sandbox/webhooks/settings', { targetUrl: `http://127.0.0.1:${port}/hubspot/webhooks?app=tandem` });
});

after(() => {
  if (sandbox) sandbox.kill('SIGTERM');
  if (receiver) receiver.close();
});

test('OAuth: authorize redirect, code exchange and refresh with the official client', async () => {
  const redirectUri = info.redirect_urls[0];
  const scope = info.required_scopes.join(' ');
  const authorize = `${info.url}/oauth/authorize?client_id=${encodeURIComponent(info.client_id)}` +
    `&scope=${encodeURIComponent(scope)}&redirect_uri=${encodeURIComponent(redirectUri)}&state=abc`;
  const r = await fetch(authorize, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const location = new URL(r.headers.get('location'));
  assert.equal(location.origin + location.pathname, redirectUri);
  assert.equal(location.searchParams.get('state'), 'abc');
  const code = location.searchParams.get('code');
  assert.ok(code);

  const oauth = new hubspot.Client({ basePath: info.url });
  tokens = await oauth.oauth.tokensApi.create('authorization_code', code, redirectUri, info.client_id, info.client_secret);
  assert.ok(tokens.accessToken);
  assert.ok(tokens.refreshToken);
  assert.equal(tokens.expiresIn, 1800);
  assert.equal(tokens.tokenType, 'bearer');

  await assert.rejects(
    oauth.oauth.tokensApi.create('authorization_code', code, redirectUri, info.client_id, info.client_secret),
    (e) => e.code === 400 && e.body.status === 'BAD_AUTH_CODE');

  const refreshed = await oauth.oauth.tokensApi.create('refresh_token', undefined, undefined, info.client_id,
    info.client_secret, tokens.refreshToken);
  assert.ok(refreshed.accessToken);
  assert.notEqual(refreshed.accessToken, tokens.accessToken);

  const meta = await oauth.oauth.accessTokensApi.get(refreshed.accessToken);
  assert.equal(meta.hubId, info.portal_id);
  assert.equal(meta.appId, info.app_id);
  client = new hubspot.Client({ accessToken: refreshed.accessToken, basePath: info.url, numberOfApiCallRetries: 0 });
});

let contactId;

test('contacts: create, get, update, 409 on a duplicate', async () => {
  const created = await client.crm.contacts.basicApi.create({
    properties: { email: 'conformance@example.com', firstname: 'Con', lastname: 'Formance' }, associations: [],
  });
  contactId = created.id;
  assert.match(created.id, /^\d+$/);
  assert.equal(created.properties.email, 'conformance@example.com');
  assert.ok(created.createdAt instanceof Date && !Number.isNaN(created.createdAt.getTime()));
  assert.equal(created.archived, false);

  const got = await client.crm.contacts.basicApi.getById(contactId, ['email', 'lifecyclestage', 'hs_lead_status']);
  assert.equal(got.properties.email, 'conformance@example.com');
  assert.equal(got.properties.hs_lead_status, null);

  const updated = await client.crm.contacts.basicApi.update(contactId, { properties: { hs_lead_status: 'OPEN' } });
  assert.equal(updated.properties.hs_lead_status, 'OPEN');

  await assert.rejects(
    client.crm.contacts.basicApi.create({ properties: { email: 'conformance@example.com' }, associations: [] }),
    (e) => e.code === 409 && e.body.category === 'CONFLICT' && /Existing ID: \d+/.test(e.body.message));
  await assert.rejects(client.crm.contacts.basicApi.getById('99999999'), (e) => e.code === 404);
});

test('contacts: search and batch update', async () => {
  const batch = await client.crm.contacts.batchApi.create({
    inputs: [1, 2, 3].map((i) => ({ properties: { email: `batch${i}@example.com`, firstname: `B${i}` }, associations: [] })),
  });
  assert.equal(batch.status, 'COMPLETE');
  assert.equal(batch.results.length, 3);

  const updated = await client.crm.contacts.batchApi.update({
    inputs: batch.results.map((c) => ({ id: c.id, properties: { lifecyclestage: 'marketingqualifiedlead' } })),
  });
  assert.equal(updated.results.length, 3);
  for (const c of updated.results) assert.equal(c.properties.lifecyclestage, 'marketingqualifiedlead');

  const found = await client.crm.contacts.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'marketingqualifiedlead' }] }],
    properties: ['email', 'lifecyclestage'],
    sorts: [{ propertyName: 'email', direction: 'ASCENDING' }],
    limit: 2,
    after: '0',
  });
  assert.equal(found.total, 3);
  assert.deepEqual(found.results.map((c) => c.properties.email), ['batch1@example.com', 'batch2@example.com']);
  assert.equal(found.paging.next.after, '2');
});

test('tasks: create with an association to a contact (type 204)', async () => {
  const { AssociationSpecAssociationCategoryEnum } = require(path.join(clientPath, 'lib', 'codegen', 'crm', 'objects', 'tasks'));
  const task = await client.crm.objects.tasks.basicApi.create({
    properties: {
      hs_timestamp: new Date('2026-12-01T09:00:00Z').toISOString(),
      hs_task_subject: 'Follow up', hs_task_body: 'Handed over because: fit + engagement',
      hs_task_type: 'CALL', hs_task_priority: 'HIGH', hubspot_owner_id: '202',
    },
    associations: [{
      to: { id: contactId },
      types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: 204 }],
    }],
  });
  assert.match(task.id, /^\d+$/);
  assert.equal(task.properties.hs_task_subject, 'Follow up');
  const page = await client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'tasks');
  assert.equal(page.results.length, 1);
  assert.equal(String(page.results[0].toObjectId), task.id);
  assert.equal(page.results[0].associationTypes[0].typeId, 203);
});

test('owners: list', async () => {
  const owners = await client.crm.owners.ownersApi.getPage();
  assert.ok(owners.results.length >= 2);
  const withTeam = owners.results.find((o) => o.teams && o.teams.length > 0);
  assert.ok(withTeam, 'some owner has a team');
  assert.ok(withTeam.createdAt instanceof Date);
  assert.equal(typeof owners.results[0].id, 'string');
});

test('webhooks: the official Signature helper validates v1 and v3 on a real delivery', async () => {
  await client.crm.contacts.basicApi.update(contactId, { properties: { hs_lead_status: 'CONNECTED' } });
  const delivery = await waitForDelivery((d) => JSON.parse(d.body).some(
    (e) => e.propertyName === 'hs_lead_status' && e.propertyValue === 'CONNECTED'));
  const events = JSON.parse(delivery.body);
  const event = events.find((e) => e.propertyName === 'hs_lead_status');
  assert.equal(event.subscriptionType, 'contact.propertyChange');
  assert.equal(event.changeSource, 'INTEGRATION');
  assert.equal(event.sourceId, String(info.app_id));
  assert.equal(event.portalId, info.portal_id);
  assert.equal(event.attemptNumber, 0);

  const settings = await sandboxJson('GET', '/_sandbox/webhooks/settings');
  const url = settings.targetUrl;
  assert.equal(hubspot.Signature.isValid({
    signatureVersion: 'v3', signature: delivery.headers['x-hubspot-signature-v3'], method: 'POST',
    clientSecret: info.client_secret, requestBody: delivery.body, url,
    timestamp: Number(delivery.headers['x-hubspot-request-timestamp']),
  }), true);
  assert.equal(hubspot.Signature.isValid({
    signatureVersion: 'v1', signature: delivery.headers['x-hubspot-signature'],
    clientSecret: info.client_secret, requestBody: delivery.body,
  }), true);
  assert.equal(hubspot.Signature.isValid({
    signatureVersion: 'v3', signature: delivery.headers['x-hubspot-signature-v3'], method: 'POST',
    clientSecret: 'wrong-secret', requestBody: delivery.body, url,
    timestamp: Number(delivery.headers['x-hubspot-request-timestamp']),
  }), false);
});

test('errors: the client sees HubSpot error bodies (401 invalid token, 400 validation)', async () => {
  const bad = new hubspot.Client({ accessToken: 'not-a-token', basePath: info.url, numberOfApiCallRetries: 0 });
  await assert.rejects(bad.crm.contacts.basicApi.getPage(), (e) => e.code === 401 && e.body.category === 'INVALID_AUTHENTICATION');
  await assert.rejects(
    client.crm.contacts.basicApi.create({ properties: { email: 'x@example.com', no_such_property: '1' }, associations: [] }),
    (e) => e.code === 400 && e.body.category === 'VALIDATION_ERROR' && e.body.errors[0].code === 'PROPERTY_DOESNT_EXIST');
});
