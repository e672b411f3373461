// R2: a tight node:http receiver — raw body, node:crypto HMAC-SHA256 (v3 with HubSpot's URI
// decoding table and a ±5 min window), crypto.timingSafeEqual. Same storage work as Tandem.
// Usage: node r2_node_http.js PORT DATA_FILE   (env SECRET, PUBLIC_BASE_URL)
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { createStore } = require('./peer_common');

const [port, file] = process.argv.slice(2);
const SECRET = process.env.SECRET || 'bench-secret';
const BASE = process.env.PUBLIC_BASE_URL || 'https://bench.example.com';
const BODY_LIMIT = 1024 * 1024;
const store = createStore(file);
const DECODE = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(',
  '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };
const decodeUri = (uri) => uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODE[m.toUpperCase()]);

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url.split('?')[0] !== '/webhooks/hubspot') return reply(res, 404, { message: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      reply(res, 413, { message: 'body too large' });
      req.destroy();
    } else chunks.push(chunk);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const ts = req.headers['x-hubspot-request-timestamp'];
    const signature = req.headers['x-hubspot-signature-v3'];
    if (!ts || !signature || !/^\d+$/.test(ts) || Math.abs(Date.now() - Number(ts)) > 300000) {
      return reply(res, 401, { message: 'invalid signature' });
    }
    const expected = crypto.createHmac('sha256', SECRET)
      .update(req.method + decodeUri(BASE + req.url)).update(body).update(ts).digest();
    const received = Buffer.from(signature.replace(/ /g, '+'), 'base64');
    if (received.length !== expected.length || !crypto.timingSafeEqual(received, expected)) {
      return reply(res, 401, { message: 'invalid signature' });
    }
    const rejected = store.accept(body, (error, stored, duplicates) => {
      if (error) return reply(res, 503, { message: 'store unavailable' }, { 'Retry-After': '5' });
      reply(res, 200, { stored, duplicates });
    });
    if (rejected) reply(res, rejected[0], { message: rejected[1] });
  });
}).listen(Number(port), '127.0.0.1', () => console.error(`r2 listening on ${port}`));
