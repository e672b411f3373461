// What the browser tests share: a sandbox HubSpot and `tandem serve` as real processes on
// loopback, headless Chromium from Debian driven by playwright-core, and screenshots kept as
// test artefacts. Exits 77 (CTest's SKIP_RETURN_CODE) when Chromium or playwright-core is missing
// (scripts/setup installs both).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const repo = path.resolve(__dirname, '..', '..');
const chromiumPath = process.env.TANDEM_CHROMIUM || '/usr/bin/chromium';

// Under CI (CI=true) a missing browser is a failure, not a skip: the suite must not pass
// without having opened the pages.
function missing(why) {
  if (process.env.CI === 'true') {
    console.error(`FAIL: ${why}`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

function loadPlaywright() {
  try {
    return require(path.join(repo, 'tools', 'node', 'node_modules', 'playwright-core'));
  } catch (e) {
    return missing(`playwright-core is not installed (run scripts/setup): ${e.message}`);
  }
}

function requireChromium() {
  if (!fs.existsSync(chromiumPath)) missing(`${chromiumPath} is missing (run scripts/setup, which installs Debian's chromium)`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      if (Date.now() > until) throw new Error(`${what}: ${e.message}`);
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Starts the sandbox (its app redirecting to Tandem's callback) and `tandem serve`.
// `sandboxYaml(tandemPort)` returns the sandbox's configuration; `tandemYaml(env)` Tandem's.
class Rig {
  constructor(tandem) {
    this.tandem = tandem;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-browser-'));
    this.children = [];
    this.secret = `browser-${crypto.randomBytes(12).toString('hex')}`;
    this.tokenKey = crypto.randomBytes(32).toString('hex');
  }

  async startSandbox(extraYaml = '') {
    this.port = await freePort();
    const file = path.join(this.dir, 'sandbox.yaml');
    fs.writeFileSync(file, `app:
  clientSecret: ${this.secret}
  redirectUrls: [http://127.0.0.1:${this.port}/oauth/callback]
  webhooks:
    targetUrl: http://127.0.0.1:${this.port}/webhooks/hubspot
${extraYaml}`);
    const child = spawn(this.tandem, ['sandbox', '--listen', '127.0.0.1:0', '--config', file],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    this.sandbox = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`sandbox exited early with ${code}`)));
      readline.createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    });
    return this.sandbox;
  }

  // `extraYaml`: more top-level sections; `oauthYaml`: more keys of the oauth section.
  async startTandem(extraYaml = '', oauthYaml = '') {
    const file = path.join(this.dir, 'tandem.yaml');
    fs.writeFileSync(file, `server:
  listen: 127.0.0.1:${this.port}
hubspot:
  api_base_url: ${this.sandbox.url}
  auth_base_url: ${this.sandbox.url}
  app_id: "${this.sandbox.app_id}"
  client_id: ${this.sandbox.client_id}
  client_secret: {env: BROWSER_CLIENT_SECRET}
oauth:
  token_key: {env: BROWSER_TOKEN_KEY}
${oauthYaml}store:
  path: ${path.join(this.dir, 'tandem.db')}
rules:
  path: ${path.join(repo, 'examples', 'rules')}
log:
  level: warn
${extraYaml}`);
    this.serveLog = path.join(this.dir, 'serve.log');
    const log = fs.openSync(this.serveLog, 'a');
    const child = spawn(this.tandem, ['serve', '--config', file], {
      stdio: ['ignore', log, log],
      env: { ...process.env, BROWSER_CLIENT_SECRET: this.secret, BROWSER_TOKEN_KEY: this.tokenKey },
    });
    this.children.push(child);
    child.on('exit', (code, signal) => { this.serveExit = { code, signal }; });
    this.base = `http://127.0.0.1:${this.port}`;
    await waitFor(async () => {
      if (this.serveExit) throw new Error(`tandem serve exited: ${fs.readFileSync(this.serveLog, 'utf8')}`);
      return (await fetch(`${this.base}/readyz`)).status !== 0;
    }, 'tandem serve to listen');
    this.configFile = file;
  }

  // Runs a `tandem` command against the running service's configuration.
  run(args) {
    return new Promise((resolve) => {
      const child = spawn(this.tandem, args, {
        env: { ...process.env, BROWSER_CLIENT_SECRET: this.secret, BROWSER_TOKEN_KEY: this.tokenKey },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  }

  async stop() {
    for (const c of this.children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => { c.once('exit', r); setTimeout(r, 5000); });
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A headless Chromium whose pages record console errors and CSP violations.
async function launchBrowser() {
  const { chromium } = loadPlaywright();
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

function watchPage(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium reports the page's own error status (a 400 or 403 page) as a console error; only
    // other resources count.
    if (m.text().startsWith('Failed to load resource') && m.location().url === page.url()) return;
    problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

function artefactDir() {
  const dir = process.env.BROWSER_TEST_ARTIFACTS || path.join(repo, 'build', 'artifacts', 'browser');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function screenshot(page, name) {
  const file = path.join(artefactDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

module.exports = { Rig, launchBrowser, watchPage, screenshot, requireChromium, loadPlaywright, waitFor, repo };
