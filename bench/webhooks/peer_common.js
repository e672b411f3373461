// Work shared by the two Node peers, identical to what Tandem does per delivery after the
// signature: parse, dedupe on (portal, subscriptionId, subscriptionType, objectId, eventId,
// occurredAt), append new events durably (one write + fdatasync per group of concurrent
// requests, like Tandem's group commit), answer after the sync.
'use strict';
const fs = require('node:fs');

const MAX_EVENTS = 100;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function createStore(file) {
  const fd = fs.openSync(file, 'a');
  const seen = new Set();
  let pending = [];
  let flushing = false;

  function flush() {
    if (flushing || pending.length === 0) return;
    flushing = true;
    const group = pending;
    pending = [];
    const data = group.map((p) => p.lines).join('');
    fs.write(fd, data, (writeError) => {
      if (writeError) return finish(group, writeError);
      fs.fdatasync(fd, (syncError) => finish(group, syncError));
    });
  }

  function finish(group, error) {
    for (const p of group) p.done(error);
    flushing = false;
    if (pending.length) setImmediate(flush);
  }

  // Returns null on success (the callback answers later) or [status, reason].
  function accept(body, done) {
    let events;
    try {
      events = JSON.parse(utf8.decode(body));
    } catch (e) {
      return [400, 'body is not valid UTF-8 JSON'];
    }
    if (!Array.isArray(events)) return [400, 'body is not a JSON array of events'];
    if (events.length > MAX_EVENTS) return [400, 'too many events'];
    let lines = '';
    let stored = 0;
    for (const e of events) {
      if (e === null || typeof e !== 'object') return [400, 'event is not an object'];
      const key = `${e.portalId}|${e.subscriptionId}|${e.subscriptionType ?? e.eventType}|${e.objectId}|${e.eventId}|${e.occurredAt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines += JSON.stringify(e) + '\n';
      ++stored;
    }
    pending.push({ lines, done: (error) => done(error, stored, events.length - stored) });
    setImmediate(flush);
    return null;
  }

  return { accept };
}

module.exports = { createStore };
