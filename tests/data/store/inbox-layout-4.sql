PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE inbox_events (
  -- No AUTOINCREMENT: it costs a sqlite_sequence write per row. A new row gets the id after the
  -- highest one present, so ids grow in arrival order; purge() may delete the newest rows when
  -- all are processed, and then lowers inbox_queue.fresh_from to match.
  id                INTEGER PRIMARY KEY,
  -- The event object exactly as HubSpot sent it: a BLOB in the form of encode_payload()
  -- (payload_codec.hpp), or TEXT as it is should it not be JSON. Its typed fields (portal, object, property...)
  -- are parsed back from it when an event is read: storing them in columns of their own as well
  -- cost a third of the append time (every column is work per row in SQLite's VM) and nothing
  -- queries them.
  payload           BLOB    NOT NULL,
  known_type        INTEGER NOT NULL,
  own_echo          INTEGER NOT NULL,
  received_at       INTEGER NOT NULL,
  -- 'pending' (never claimed since it arrived), 'retry' (pending again: failed, lease expired or
  -- replayed), 'claimed', 'done', 'dead' or 'skipped'. Both 'pending' and 'retry' read as
  -- EventState::kPending; the two differ only in how claim() finds them (see inbox_queue).
  state             TEXT    NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  available_at      INTEGER NOT NULL DEFAULT 0,  -- 'retry': not before this (epoch ms)
  lease_owner       TEXT,
  lease_until       INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT    NOT NULL DEFAULT '',
  -- The dedup key (portal, subscriptionId, subscriptionType, objectId, eventId, occurredAt) as one
  -- BLOB (see dedup_key()): eventId alone is not unique (hubspot-contract.md §3.2). One column
  -- compares with a memcmp where a six-column key costs a typed comparison per column at every
  -- step of every b-tree seek. The row, and so the key, stays until purge() removes processed
  -- rows older than the retention (>= 48 h).
  dedup_key         BLOB    NOT NULL UNIQUE
);
INSERT INTO inbox_events VALUES(1,X'7b032036323531352c200420393339333336312c20022032352c200720302c20226368616e6765466c6167223a20224e4557222c2001203130312c200520313736343630303030303030302c200620132c200820353030312c200e20187d',1,0,1796193991347,'pending',0,0,NULL,0,'',X'16019ada5b2e00116512f433111912138901');
INSERT INTO inbox_events VALUES(2,X'7b032036323531352c200420393339333336312c20022032352c200720302c20226368616e6765466c6167223a20224e4557222c2001203130322c200520313736343630303030313030302c200620122c200820353030312c200b201a2c200c20226d61726b6574696e677175616c69666965646c656164222c200e20182c200f201d3432227d',1,0,1796193991350,'pending',0,0,NULL,0,'',X'16019ada5b31e8116612f433111912138907');
INSERT INTO inbox_events VALUES(3,X'7b032036323531352c200420393339333336312c20022032352c200720302c20226368616e6765466c6167223a20224e4557222c2001203130332c200520313736343630303030323030302c200620122c200820353030312c200b201b2c200c20224f50454e222c200e20192c200f202239333933333631227d',1,1,1796193991352,'skipped',0,0,NULL,0,'',X'16019ada5b35d0116712f433111912138907');
CREATE TABLE inbox_queue (fresh_from INTEGER NOT NULL);
INSERT INTO inbox_queue VALUES(1);
CREATE INDEX inbox_events_claimed ON inbox_events (lease_until) WHERE state = 'claimed';
CREATE INDEX inbox_events_retry ON inbox_events (available_at) WHERE state = 'retry';
COMMIT;
