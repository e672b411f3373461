#include "store/sqlite_inbox.hpp"

#include <algorithm>
#include <cassert>
#include <map>

#include <sqlite3.h>

#include "store/payload_codec.hpp"
#include "store/sqlite.hpp"

namespace tandem::store {

using webhooks::AppendOutcome;
using webhooks::Event;
using webhooks::EventState;
using webhooks::InboxError;
using webhooks::InboxStats;
using webhooks::StoredEvent;

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS inbox_events (
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
-- No index over the whole queue: one more b-tree insert per appended event cost ~15% of the
-- intake's throughput. Fresh events are found by rowid from inbox_queue.fresh_from; the two
-- partial indexes below hold only rows that left 'pending', so an append never touches them.
CREATE INDEX IF NOT EXISTS inbox_events_claimed ON inbox_events (lease_until) WHERE state = 'claimed';
CREATE INDEX IF NOT EXISTS inbox_events_retry ON inbox_events (available_at) WHERE state = 'retry';
-- One row. Every event in state 'pending' has id >= fresh_from. Ids grow with arrival and claims
-- take fresh events in id order, so claim() walks the rowid range up from here, skipping the
-- few rows that are not 'pending' (own echoes), and moves it past what it took or passed over.
-- It is a column rather than memory so that every process claiming from this file shares it.
CREATE TABLE IF NOT EXISTS inbox_queue (fresh_from INTEGER NOT NULL);
INSERT INTO inbox_queue (fresh_from) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM inbox_queue);
)sql";

// The inbox's migrations (store/database.hpp). Step 1 is the layout that builds before per-component
// migrations marked as file layout 4 (PRAGMA user_version); such a file is adopted as it is.
// Earlier development builds wrote layout 0 (typed columns and a six-column UNIQUE key), 2 (typed
// columns and this key) or 3 (an index over the whole queue); this build does not migrate them.
constexpr Migration kMigrations[] = {{1, kSchema}};

// Subscription types stored as one byte in the dedup key (see dedup_key()): the ones a lead
// connector subscribes to. This table is part of layout version 4: changing an entry, its order,
// or adding one changes the keys of events already stored (a redelivery would no longer match),
// so it takes a new layout version. Other types are stored by name.
constexpr std::string_view kKeyTypes[] = {
    "contact.creation", "contact.deletion", "contact.merge", "contact.associationChange", "contact.restore",
    "contact.privacyDeletion", "contact.propertyChange", "company.creation", "company.deletion",
    "company.propertyChange", "company.associationChange", "company.restore", "company.merge", "deal.creation",
    "deal.deletion", "deal.propertyChange", "deal.associationChange", "deal.restore", "deal.merge",
    "object.creation", "object.deletion", "object.merge", "object.restore", "object.propertyChange",
    "object.associationChange"};

// An integer as a tag byte (sign, and how many significant bytes follow) and those bytes,
// big-endian: 4-7 bytes for HubSpot's ids and times instead of 8. For values >= 0 memcmp still
// orders the encodings as the numbers.
void put_key_int(std::string& out, std::int64_t v) {
  const bool negative = v < 0;
  const std::uint64_t u = negative ? ~static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  int bytes = 0;
  for (std::uint64_t t = u; t != 0; t >>= 8) ++bytes;
  out.push_back(static_cast<char>((negative ? 0x00 : 0x10) | bytes));
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xFF));
}

// occurredAt, eventId, portalId, subscriptionId and objectId, then subscriptionType: a code from
// kKeyTypes (1-25), or 0 and the name. Every part but the last says its own length, so two keys
// are equal only when all six parts are. occurredAt first: new events land at the right edge of
// the index, which keeps the pages a group commit dirties few. ~27 bytes where eight bytes per
// integer and the type's name took ~62; the key is stored twice (row and index), and the bytes
// written per event (WAL, then the database) are most of the intake's cost.
void dedup_key(const Event& e, std::string& out) {
  out.clear();
  for (std::int64_t v : {e.occurred_at, e.event_id, e.portal_id, e.subscription_id, e.object_id}) put_key_int(out, v);
  const auto* known = std::find(std::begin(kKeyTypes), std::end(kKeyTypes), e.subscription_type);
  if (known != std::end(kKeyTypes)) {
    out.push_back(static_cast<char>(1 + (known - std::begin(kKeyTypes))));
  } else {
    out.push_back('\0');
    out.append(e.subscription_type);
  }
}

// The stored states an EventState stands for, as an SQL list, and the EventState a stored state
// reads as: the column's vocabulary is EventState's plus 'retry' (see the schema).
std::string stored_states(EventState s) {
  if (s == EventState::kPending) return "('pending', 'retry')";
  return "('" + std::string(webhooks::to_string(s)) + "')";
}

EventState event_state_of(std::string_view stored) {
  if (stored == "retry") return EventState::kPending;
  return webhooks::parse_event_state(stored).value_or(EventState::kPending);
}

constexpr const char* kColumns =
    "id, payload, known_type, own_echo, received_at, state, attempts, last_error, lease_until";

StoredEvent read_row(const Statement& s) {
  StoredEvent r;
  r.id = s.column_int(0);
  std::string payload = s.column_is_blob(1) ? decode_payload(s.column_blob(1)) : s.column_text(1);
  // Every stored payload passed the same parser at intake; should one not parse (a file edited by
  // hand), the event keeps its payload and flags, and its consumer reports it.
  if (auto parsed = webhooks::parse_event(payload)) r.event = std::move(*parsed);
  r.event.payload = std::move(payload);
  r.event.known_type = s.column_int(2) != 0;
  r.event.own_echo = s.column_int(3) != 0;
  r.received_at = s.column_int(4);
  r.state = event_state_of(s.column_text(5));
  r.attempts = static_cast<int>(s.column_int(6));
  r.last_error = s.column_text(7);
  r.lease_until = s.column_int(8);
  return r;
}


}  // namespace

struct SqliteInbox::Statements {
  explicit Statements(Connection& db)
      : writer(db),
        expire_dead(db,
                    "UPDATE inbox_events SET state = 'dead', lease_owner = NULL, "
                    "last_error = 'lease expired after ' || attempts || ' claims' || "
                    "CASE WHEN last_error = '' THEN '' ELSE '; last error: ' || last_error END "
                    "WHERE state = 'claimed' AND lease_until <= ?1 AND attempts >= ?2"),
        expire_retry(db,
                     "UPDATE inbox_events SET state = 'retry', lease_owner = NULL, available_at = lease_until "
                     "WHERE state = 'claimed' AND lease_until <= ?1"),
        // OR IGNORE: nothing here can violate a constraint, and saying so spares SQLite the
        // statement journal it keeps for a multi-row write that could abort halfway (see
        // insert_rows()).
        claim_retry(db, std::string(kClaimSet) +
                            "WHERE id IN (SELECT id FROM inbox_events WHERE state = 'retry' AND available_at <= ?3 "
                            "ORDER BY available_at, id LIMIT ?4) RETURNING " + kColumns),
        claim_fresh(db, std::string(kClaimSet) +
                            "WHERE id IN (SELECT id FROM inbox_events WHERE id >= ?3 AND state = 'pending' "
                            "ORDER BY id LIMIT ?4) RETURNING " + kColumns),
        fresh_from(db, "SELECT fresh_from FROM inbox_queue"),
        set_fresh_from(db, "UPDATE inbox_queue SET fresh_from = ?1"),
        fresh_past_all(db, "UPDATE inbox_queue SET fresh_from = (SELECT coalesce(max(id), 0) + 1 FROM inbox_events)"),
        ack(db,
            "UPDATE inbox_events SET state = 'done', lease_owner = NULL, last_error = '' "
            "WHERE id = ?1 AND state = 'claimed' AND lease_owner = ?2"),
        attempts_of(db, "SELECT attempts FROM inbox_events WHERE id = ?1 AND state = 'claimed' AND lease_owner = ?2"),
        retry(db,
              "UPDATE inbox_events SET state = 'retry', lease_owner = NULL, available_at = ?2, last_error = ?3 "
              "WHERE id = ?1"),
        dead(db, "UPDATE inbox_events SET state = 'dead', lease_owner = NULL, last_error = ?2 WHERE id = ?1") {}

  // Multi-row inserts, by row count, prepared on first use: one statement per request's events
  // instead of one per event (the VDBE setup per statement dominated at 100 events/request).
  // `returning`: the variant that returns the own_echo flag of each row it inserted, used only
  // for rows that hold an own echo (so that /metrics counts the echoes that were new, not their
  // redeliveries) — RETURNING is work per row that the other rows need not pay for.
  Statement& insert_rows(std::size_t rows, bool returning) {
    auto& slot = (returning ? insert_returning : insert_many)[rows];
    if (!slot) {
      // OR IGNORE rather than ON CONFLICT DO NOTHING: both skip a duplicate key, but with the
      // latter a NOT NULL violation could abort the statement halfway, so SQLite keeps a statement
      // journal to undo its earlier rows, and that journal spills to a temporary file past 64 KiB
      // (four 16 KiB pages). Measured under load: ~5x more bytes written than the WAL itself.
      // Nothing bound here is ever NULL, so ignoring NOT NULL skips nothing.
      std::string sql =
          "INSERT OR IGNORE INTO inbox_events (payload, known_type, own_echo, received_at, state, dedup_key) "
          "VALUES ";
      for (std::size_t r = 0; r < rows; ++r) {
        sql += r ? ",(" : "(";
        for (int c = 0; c < kInsertColumns; ++c) sql += c ? ",?" : "?";
        sql += ')';
      }
      if (returning) sql += " RETURNING own_echo";
      slot = std::make_unique<Statement>(writer, sql);
    }
    return *slot;
  }
  static constexpr int kInsertColumns = 6;
  static constexpr std::size_t kMaxRowsPerInsert = 100;
  std::map<std::size_t, std::unique_ptr<Statement>> insert_many;
  std::map<std::size_t, std::unique_ptr<Statement>> insert_returning;

  Connection& writer;
  static constexpr const char* kClaimSet =
      "UPDATE OR IGNORE inbox_events SET state = 'claimed', attempts = attempts + 1, lease_owner = ?1, "
      "lease_until = ?2 ";
  Statement expire_dead;
  Statement expire_retry;
  Statement claim_retry;
  Statement claim_fresh;
  Statement fresh_from;
  Statement set_fresh_from;
  Statement fresh_past_all;
  Statement ack;
  Statement attempts_of;
  Statement retry;
  Statement dead;
};

namespace {

InboxError storage_error(const SqliteError& error) { return InboxError{InboxError::Kind::kStorage, error.what()}; }

InboxError lease_lost(std::int64_t id, const std::string& consumer) {
  return InboxError{InboxError::Kind::kLeaseLost,
                    "event " + std::to_string(id) + " is no longer leased to " + consumer};
}

}  // namespace

SqliteInbox::SqliteInbox(Database& db, const Clock& clock, int max_attempts)
    : db_(db), clock_(clock), max_attempts_(max_attempts) {
  db_.migrate("inbox", kMigrations, [&db](Connection& c, int found) {
    if (found != 0) return;
    Statement table(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'inbox_events'");
    if (!(table.step() && table.column_int(0) > 0)) return;
    // Tables without a recorded version: a file of an earlier development layout.
    Statement version(c, "PRAGMA user_version");
    const std::int64_t layout = version.step() ? version.column_int(0) : 0;
    throw SqliteError(SQLITE_ERROR, db.config().path + ": the inbox has layout version " + std::to_string(layout) +
                                        ", this build reads version " +
                                        std::to_string(kSingleInboxLayout) +
                                        " only; drain it with the build that wrote it, or move the file away");
  });
  db_.with_writer([this](Connection& writer) { st_ = std::make_unique<Statements>(writer); });
}

SqliteInbox::~SqliteInbox() {
  // The statements belong to the writer connection: finalise them under its mutex.
  db_.with_writer([this](Connection&) { st_.reset(); });
}

Result<void, InboxError> SqliteInbox::sync(webhooks::AppendTicket ticket) {
  if (auto synced = db_.sync(ticket.sequence); !synced) return InboxError{InboxError::Kind::kStorage, synced.error().message};
  return {};
}

Result<webhooks::Appended, InboxError> SqliteInbox::append_committed(
    std::span<const std::vector<Event>* const> batches) {
  return db_.with_writer([&](Connection& writer) -> Result<webhooks::Appended, InboxError> {
    webhooks::Appended appended;
    appended.outcomes.assign(batches.size(), AppendOutcome{});
    try {
      const std::int64_t now = to_epoch_ms(clock_.now());
      Transaction tx(writer);
      for (std::size_t b = 0; b < batches.size(); ++b) {
        const std::vector<Event>& events = *batches[b];
        for (std::size_t first = 0; first < events.size(); first += Statements::kMaxRowsPerInsert) {
          const std::size_t rows = std::min(Statements::kMaxRowsPerInsert, events.size() - first);
          // Left reset by its last use (rewind() below, or step() on an error); every parameter is
          // bound again here.
          const bool echoes = std::any_of(events.begin() + static_cast<std::ptrdiff_t>(first),
                                          events.begin() + static_cast<std::ptrdiff_t>(first + rows),
                                          [](const Event& e) { return e.own_echo; });
          Statement& ins = st_->insert_rows(rows, echoes);
          if (keys_.size() < rows) keys_.resize(rows);
          if (payloads_.size() < rows) payloads_.resize(rows);
          for (std::size_t r = 0; r < rows; ++r) {
            const Event& e = events[first + r];
            dedup_key(e, keys_[r]);
            const int p = static_cast<int>(r) * Statements::kInsertColumns;
            if (encode_payload(e.payload, payloads_[r])) {
              ins.bind_blob_static(p + 1, payloads_[r]);
            } else {
              ins.bind_static(p + 1, e.payload);
            }
            ins.bind(p + 2, std::int64_t{e.known_type ? 1 : 0})
                .bind(p + 3, std::int64_t{e.own_echo ? 1 : 0})
                .bind(p + 4, now)
                .bind_static(p + 5, e.own_echo ? std::string_view("skipped") : std::string_view("pending"))
                .bind_blob_static(p + 6, keys_[r]);
          }
          while (ins.step()) {
            if (ins.column_int(0) != 0) ++appended.outcomes[b].own_echoes;
          }
          // OR IGNORE also skips a repeat inside the same statement; changes() counts only the rows
          // inserted.
          const auto inserted = static_cast<std::size_t>(writer.changes());
          appended.outcomes[b].stored += inserted;
          appended.outcomes[b].duplicates += rows - inserted;
          ins.rewind();
        }
      }
      tx.commit();
      appended.ticket.sequence = db_.note_commit();
      return appended;
    } catch (const SqliteError& error) {
      return storage_error(error);
    }
  });
}

Result<std::vector<StoredEvent>, InboxError> SqliteInbox::claim(std::size_t max, std::chrono::milliseconds lease,
                                                               const std::string& consumer) {
  std::vector<StoredEvent> claimed;
  if (max == 0) return claimed;
  std::uint64_t sequence = 0;
  try {
    db_.with_writer([&](Connection& writer) {
      const std::int64_t now = to_epoch_ms(clock_.now());
      Transaction tx(writer);
      st_->expire_dead.reset();
      st_->expire_dead.bind(1, now).bind(2, std::int64_t{max_attempts_});
      st_->expire_dead.step();
      st_->expire_retry.reset();
      st_->expire_retry.bind(1, now);
      st_->expire_retry.step();
      auto take = [&](Statement& c, std::int64_t bound, std::size_t n) {
        c.reset();
        c.bind(1, std::string_view(consumer))
            .bind(2, now + lease.count())
            .bind(3, bound)
            .bind(4, static_cast<std::int64_t>(n));
        while (c.step()) claimed.push_back(read_row(c));
        c.reset();
      };
      // Events to retry first: every one of them arrived before any fresh event.
      take(st_->claim_retry, now, max);
      if (claimed.size() < max) {
        const std::size_t want = max - claimed.size();
        const std::size_t before = claimed.size();
        Statement& f = st_->fresh_from;
        f.reset();
        const std::int64_t from = f.step() ? f.column_int(0) : 1;
        f.reset();
        take(st_->claim_fresh, from, want);
        Statement* move = &st_->fresh_past_all;  // the walk reached the last row: no 'pending' row is left
        if (claimed.size() - before == want) {
          // Every row from `from` up to the last one taken is now something other than 'pending'.
          std::int64_t next = from;
          for (std::size_t i = before; i < claimed.size(); ++i) next = std::max(next, claimed[i].id + 1);
          move = &st_->set_fresh_from;
          move->reset();
          move->bind(1, next);
        }
        move->step();
        move->reset();
      }
      tx.commit();
      sequence = db_.note_commit();
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
  if (auto synced = sync({sequence}); !synced) return synced.error();
  std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return claimed;
}

Result<void, InboxError> SqliteInbox::acknowledge_on(Connection& writer, std::int64_t id,
                                                     const std::string& consumer) {
  assert(&writer == &st_->writer && "the inbox's statements belong to the writer connection");
  Statement& a = st_->ack;
  a.reset();
  a.bind(1, id).bind(2, std::string_view(consumer));
  a.step();
  if (writer.changes() == 0) return lease_lost(id, consumer);
  return {};
}

Result<void, InboxError> SqliteInbox::acknowledge(std::int64_t id, const std::string& consumer) {
  Result<void, InboxError> acknowledged;
  std::uint64_t sequence = 0;
  try {
    db_.with_writer([&](Connection& writer) {
      acknowledged = acknowledge_on(writer, id, consumer);  // one statement: its own transaction
      if (acknowledged) sequence = db_.note_commit();
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
  if (!acknowledged) return acknowledged;
  return sync({sequence});
}

Result<void, InboxError> SqliteInbox::acknowledge(UnitOfWork& unit, std::int64_t id, const std::string& consumer) {
  try {
    return acknowledge_on(SqliteUnitOfWork::of(unit).connection(), id, consumer);
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
}

Result<void, InboxError> SqliteInbox::retry_later(std::int64_t id, const std::string& consumer,
                                                  const std::string& reason, std::chrono::milliseconds retry_after) {
  bool held = false;
  std::uint64_t sequence = 0;
  try {
    db_.with_writer([&](Connection& writer) {
      const std::int64_t now = to_epoch_ms(clock_.now());
      Transaction tx(writer);
      Statement& q = st_->attempts_of;
      q.reset();
      q.bind(1, id).bind(2, std::string_view(consumer));
      if (!q.step()) {
        q.reset();
        return;
      }
      held = true;
      const std::int64_t attempts = q.column_int(0);
      q.reset();
      if (attempts >= max_attempts_) {
        Statement& d = st_->dead;
        d.reset();
        d.bind(1, id).bind(2, "failed " + std::to_string(attempts) + " times; last error: " + reason);
        d.step();
      } else {
        Statement& r = st_->retry;
        r.reset();
        r.bind(1, id).bind(2, now + retry_after.count()).bind(3, std::string_view(reason));
        r.step();
      }
      tx.commit();
      sequence = db_.note_commit();
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
  if (!held) return lease_lost(id, consumer);
  return sync({sequence});
}

Result<std::size_t, InboxError> SqliteInbox::replay(std::optional<std::int64_t> id, EventState from) {
  std::size_t replayed = 0;
  std::uint64_t sequence = 0;
  try {
    db_.with_writer([&](Connection& writer) {
      const std::int64_t now = to_epoch_ms(clock_.now());
      // 'retry' whatever the row's id: claim() finds such rows by index, while fresh_from only ever
      // moves up past rows that are no longer 'pending'.
      std::string sql =
          "UPDATE inbox_events SET state = 'retry', attempts = 0, lease_owner = NULL, available_at = ?1 "
          "WHERE state IN " + stored_states(from);
      if (id) sql += " AND id = ?2";
      Statement s(writer, sql);
      s.bind(1, now);
      if (id) s.bind(2, *id);
      s.step();
      replayed = static_cast<std::size_t>(writer.changes());
      if (replayed > 0) sequence = db_.note_commit();
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
  if (replayed > 0) {
    if (auto synced = sync({sequence}); !synced) return synced.error();
  }
  return replayed;
}

Result<InboxStats, InboxError> SqliteInbox::stats() {
  try {
    return db_.with_reader([&](Connection& reader) {
      InboxStats out;
      // One pass over the table (there is no index over every row's state).
      Statement s(reader,
                  "SELECT count(*) FILTER (WHERE state IN ('pending', 'retry', 'claimed')), "
                  "count(*) FILTER (WHERE state = 'claimed'), count(*) FILTER (WHERE state = 'done'), "
                  "count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state = 'skipped'), "
                  "count(*) FILTER (WHERE known_type = 0), "
                  "min(received_at) FILTER (WHERE state IN ('pending', 'retry', 'claimed')) FROM inbox_events");
      if (!s.step()) return out;
      out.unprocessed = s.column_int(0);
      out.claimed = s.column_int(1);
      out.done = s.column_int(2);
      out.dead = s.column_int(3);
      out.skipped = s.column_int(4);
      out.unknown_types = s.column_int(5);
      if (!s.column_is_null(6)) {
        const std::int64_t age = to_epoch_ms(clock_.now()) - s.column_int(6);
        out.oldest_unprocessed_age = std::chrono::milliseconds{std::max<std::int64_t>(age, 0)};
      }
      return out;
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
}

Result<std::vector<StoredEvent>, InboxError> SqliteInbox::list(const webhooks::ListFilter& filter) {
  try {
    return db_.with_reader([&](Connection& reader) {
      std::string sql = std::string("SELECT ") + kColumns + " FROM inbox_events WHERE id > ?1";
      if (filter.state) sql += " AND state IN " + stored_states(*filter.state);
      sql += " ORDER BY id LIMIT ?2";
      Statement s(reader, sql);
      s.bind(1, filter.after_id).bind(2, static_cast<std::int64_t>(filter.limit));
      std::vector<StoredEvent> out;
      while (s.step()) out.push_back(read_row(s));
      return out;
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
}

bool SqliteInbox::writable() { return db_.writable(); }

Result<std::size_t, InboxError> SqliteInbox::purge(std::chrono::milliseconds retention) {
  // The dedup key must outlive HubSpot's retry window (24 h) with margin: never less than 48 h.
  retention = std::max<std::chrono::milliseconds>(retention, std::chrono::hours{48});
  try {
    return db_.with_writer([&](Connection& writer) {
      Transaction tx(writer);
      Statement s(writer, "DELETE FROM inbox_events WHERE state IN ('done', 'skipped') AND received_at < ?1");
      s.bind(1, to_epoch_ms(clock_.now()) - retention.count());
      s.step();
      const auto deleted = static_cast<std::size_t>(writer.changes());
      // Should the newest rows have gone, SQLite gives the next event the id after the highest one
      // left: keep fresh_from at or below it. Every 'pending' row is above that id anyway.
      if (deleted > 0) {
        writer.exec(
            "UPDATE inbox_queue SET fresh_from = min(fresh_from, (SELECT coalesce(max(id), 0) + 1 FROM "
            "inbox_events))");
      }
      tx.commit();
      // Not flushed: a purge lost to a power cut deletes the same rows next time.
      db_.note_commit();
      return deleted;
    });
  } catch (const SqliteError& error) {
    return storage_error(error);
  }
}

}  // namespace tandem::store
