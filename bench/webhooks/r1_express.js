// R1: what a HubSpot developer typically writes — express, a raw body, and the official
// @hubspot/api-client Signature helper (v3). Same storage work as Tandem (peer_common.js).
// Usage: node r1_express.js PORT DATA_FILE   (env SECRET, PUBLIC_BASE_URL)
'use strict';
const path = require('node:path');
const modules = path.join(__dirname, '..', '..', 'tools', 'node', 'node_modules');
const express = require(path.join(modules, 'express'));
const { Signature } = require(path.join(modules, '@hubspot', 'api-client', 'lib', 'src', 'utils', 'signature'));
const { createStore } = require('./peer_common');

const [port, file] = process.argv.slice(2);
const SECRET = process.env.SECRET || 'bench-secret';
const BASE = process.env.PUBLIC_BASE_URL || 'https://bench.example.com';
const store = createStore(file);
const app = express();

app.post('/webhooks/hubspot', express.raw({ type: '*/*', limit: '1mb' }), (req, res) => {
  const timestamp = Number(req.header('X-HubSpot-Request-Timestamp'));
  let valid = false;
  try {
    valid = Signature.isValid({
      signatureVersion: 'v3',
      signature: req.header('X-HubSpot-Signature-v3'),
      clientSecret: SECRET,
      requestBody: req.body.toString('utf8'),
      url: BASE + req.originalUrl,
      method: req.method,
      timestamp,
    });
  } catch (e) {
    valid = false; // 'Timestamp is invalid, reject request'
  }
  if (!valid) return res.status(401).json({ status: 'error', message: 'invalid signature' });
  const rejected = store.accept(req.body, (error, stored, duplicates) => {
    if (error) return res.status(503).set('Retry-After', '5').json({ status: 'error', message: 'store unavailable' });
    res.status(200).json({ stored, duplicates });
  });
  if (rejected) res.status(rejected[0]).json({ status: 'error', message: rejected[1] });
});

app.listen(Number(port), '127.0.0.1', () => console.error(`r1 listening on ${port}`));
