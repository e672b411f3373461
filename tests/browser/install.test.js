// An admin installs Tandem in a real browser (headless Chromium): Tandem's install URL, HubSpot's
// authorize step (the sandbox), back to Tandem's callback page. Also what the admin sees when the
// install is cancelled in HubSpot, when an install link is used twice, and when it is finished in
// another browser. Each page is checked as a person reads it (visible text, status, no console
// error or blocked resource) and kept as a screenshot.
// Usage: node install.test.js <path to the tandem binary>
'use strict';

const rig = require('./rig.js');

rig.requireChromium();
rig.loadPlaywright();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const tandem = process.argv[2];
if (!tandem) {
  console.error('usage: node install.test.js <tandem binary>');
  process.exit(2);
}

let r;
let browser;

before(async () => {
  r = new rig.Rig(tandem);
  await r.startSandbox();
  // Uninstall notices are on by default; read the journal every second here.
  await r.startTandem('', '  uninstall_poll_interval: 1s\n');
  browser = await rig.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (r) await r.stop();
});

// Opens the install URL in `context`, recording every document response on the way.
async function install(context) {
  const page = await context.newPage();
  const problems = rig.watchPage(page);
  const documents = [];
  page.on('response', (res) => {
    if (res.request().resourceType() === 'document') documents.push({ url: res.url(), status: res.status() });
  });
  const last = await page.goto(`${r.base}/oauth/install`);
  return { page, problems, documents, last };
}

// Opens the install URL but stops where HubSpot's consent screen would be: Tandem's answer
// reaches the browser (its cookie is set) with the redirect held back. Returns the authorize URL.
async function startInstall(context) {
  const page = await context.newPage();
  const problems = rig.watchPage(page);
  let authorize;
  await page.route((url) => url.pathname === '/oauth/install', async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    authorize = res.headers().location;
    const headers = { ...res.headers(), 'content-type': 'text/plain' };
    delete headers.location;
    await route.fulfill({ status: 200, headers, body: 'HubSpot consent screen' });
  });
  await page.goto(`${r.base}/oauth/install`);
  await page.unroute((url) => url.pathname === '/oauth/install');
  return { page, problems, authorize };
}

test('an admin installs Tandem and reads which account is connected', async () => {
  const context = await browser.newContext();
  const { page, problems, documents, last } = await install(context);
  assert.equal(last.status(), 200);
  assert.ok(page.url().startsWith(`${r.base}/oauth/callback?`), page.url());
  // The way there: Tandem's install URL (302), HubSpot's authorize (302), Tandem's callback.
  assert.deepEqual(documents.map((d) => new URL(d.url).pathname), ['/oauth/install', '/oauth/authorize', '/oauth/callback']);
  assert.equal(await page.locator('h1').innerText(), 'Tandem is installed');
  const text = await page.locator('body').innerText();
  assert.match(text, /HubSpot account 12345678/);
  assert.match(text, /UTC/, 'the page says which time zone applies');
  assert.doesNotMatch(text, /access_token|refresh_token|na1-|client_secret/i, 'no secret on the page');
  assert.ok(!text.includes(r.secret));
  assert.deepEqual(problems, [], 'no console error or blocked resource');
  // The state cookie is HttpOnly and scoped to the callback.
  const cookies = await context.cookies(r.base);
  for (const c of cookies) {
    assert.equal(c.httpOnly, true, c.name);
    assert.equal(c.path, '/oauth/callback', c.name);
  }
  await rig.screenshot(page, 'install-connected');

  const accounts = await r.run(['accounts', 'list', '--config', r.configFile, '--json']);
  assert.equal(accounts.code, 0, accounts.err);
  const list = JSON.parse(accounts.out);
  const rows = Array.isArray(list) ? list : list.accounts;
  assert.ok(rows.some((a) => String(a.portal_id ?? a.portalId) === '12345678'), accounts.out);

  // Reloading the callback spends the same state again: refused, with a way to start over.
  const again = await page.reload();
  assert.equal(again.status(), 400);
  assert.match(await page.locator('h1').innerText(), /not valid any more/);
  await rig.screenshot(page, 'install-link-used-twice');
  await page.getByRole('link', { name: 'Start the installation again' }).click();
  await page.waitForURL(/\/oauth\/callback\?/);
  assert.equal(await page.locator('h1').innerText(), 'Tandem is installed');
  await context.close();
});

test('an admin who cancels in HubSpot is told nothing was installed', async () => {
  const context = await browser.newContext();
  const { page, problems, authorize } = await startInstall(context);
  assert.ok(authorize && authorize.startsWith(`${r.sandbox.url}/oauth/authorize?`), authorize);
  // Tandem's state cookie is in the browser, for the callback only.
  const cookies = await context.cookies(`${r.base}/oauth/callback`);
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  // The admin clicks "Cancel" on HubSpot's consent screen (the sandbox's sandbox_decision=deny).
  const last = await page.goto(`${authorize}&sandbox_decision=deny`);
  assert.equal(last.status(), 403);
  assert.ok(page.url().startsWith(`${r.base}/oauth/callback?error=access_denied`), page.url());
  assert.equal(await page.locator('h1').innerText(), 'Tandem was not installed');
  assert.match(await page.locator('body').innerText(), /cancelled in HubSpot.*Nothing was stored/s);
  assert.deepEqual(problems, []);
  await rig.screenshot(page, 'install-cancelled');
  await context.close();
});

test('an install finished in another browser is refused', async () => {
  // The first browser starts the install and consents; HubSpot's answer (the callback address
  // with the code) is not followed there.
  const first = await browser.newContext();
  const { page: firstPage, authorize } = await startInstall(first);
  const consent = await first.request.get(authorize, { maxRedirects: 0 });
  assert.equal(consent.status(), 302);
  const callback = consent.headers().location;
  assert.ok(callback && callback.startsWith(`${r.base}/oauth/callback?code=`), callback);
  await firstPage.close();
  // Someone opens that address in a browser without Tandem's cookie.
  const second = await browser.newContext();
  const page = await second.newPage();
  const problems = rig.watchPage(page);
  const res = await page.goto(callback);
  assert.equal(res.status(), 400);
  assert.equal(await page.locator('h1').innerText(), 'This installation was started in another browser');
  assert.deepEqual(problems, []);
  await rig.screenshot(page, 'install-other-browser');
  await first.close();
  await second.close();
});

test('an admin who uninstalls Tandem in HubSpot sees the account disconnected with who did it', async () => {
  // Installed by the first test; the admin now removes the app in HubSpot's settings.
  const res = await fetch(`${r.sandbox.url}/_sandbox/portals/12345678/uninstall`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId: 9001 }),
  });
  assert.equal(res.status, 204);
  const shown = await rig.waitFor(async () => {
    const out = await r.run(['accounts', 'show', '12345678', '--config', r.configFile]);
    return /disconnected/.test(out.out) ? out.out : null;
  }, 'the account to show as disconnected');
  assert.match(shown, /uninstalled in HubSpot by user 9001/);
  const ready = await (await fetch(`${r.base}/readyz`)).json();
  assert.equal(ready.details.uninstall_notices.uninstalls, 1);
  assert.equal(ready.details.uninstall_notices.last_error, '');
});
