#include "store/sqlite_inbox.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>
#include <sqlite3.h>

#include "common/thread_name.hpp"
#include "store/payload_codec.hpp"
#include "store/sqlite.hpp"

namespace tandem::store {

using webhooks::AppendOutcome;
using webhooks::Event;
using webhooks::EventState;
using webhooks::InboxError;
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

// PRAGMA user_version of the layout above. Earlier development builds wrote 0 (typed columns and
// a six-column UNIQUE key), 2 (typed columns and this key) or 3 (an index over the whole queue);
// this build does not migrate them.
constexpr int kSchemaVersion = 4;

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
  explicit Statements(Database& db)
      : expire_dead(db,
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
  Statement& insert_rows(Database& db, std::size_t rows) {
    auto& slot = insert_many[rows];
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
      slot = std::make_unique<Statement>(db, sql);
    }
    return *slot;
  }
  static constexpr int kInsertColumns = 6;
  static constexpr std::size_t kMaxRowsPerInsert = 100;
  std::map<std::size_t, std::unique_ptr<Statement>> insert_many;

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

SqliteInbox::SqliteInbox(const StoreConfig& config, const Clock& clock, int max_attempts)
    : config_(config), max_attempts_(max_attempts), clock_(clock) {
  db_ = std::make_unique<Database>(config_.path);
  sqlite3_busy_timeout(db_->handle(), static_cast<int>(config_.busy_timeout.count()));
  // 16 KiB pages for a new file (no effect on an existing one): a group commit writes its rows as
  // a quarter of the WAL frames, and so of the write() calls, that 4 KiB pages need; measured
  // ~20% less CPU per appended event, and a quarter less wall time.
  db_->exec("PRAGMA page_size = 16384");
  db_->exec("PRAGMA journal_mode = WAL");
  // NORMAL on this connection in both modes: commits write the WAL without flushing it. With
  // kFull, sync() flushes the WAL itself (fdatasync) before anything is acknowledged, so the next
  // group commits while the disk flushes the previous one. That is as durable as SQLite's FULL:
  // a flush covers every frame written before it starts, recovery replays the WAL up to the last
  // complete commit, and the WAL is restarted (overwritten) only after a checkpoint, which in
  // NORMAL mode syncs the WAL before copying it and the database after.
  db_->exec("PRAGMA synchronous = NORMAL");
  // Index pages of the dedup key stay hot; 8 MiB keeps RSS well under the 50 MB budget.
  db_->exec("PRAGMA cache_size = -8192");
  {
    Transaction tx(*db_);
    Statement version(*db_, "PRAGMA user_version");
    const std::int64_t found = version.step() ? version.column_int(0) : 0;
    version.reset();
    Statement table(*db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'inbox_events'");
    const bool exists = table.step() && table.column_int(0) > 0;
    table.reset();
    if (exists && found != kSchemaVersion) {
      throw SqliteError(SQLITE_ERROR, config_.path + ": the inbox has layout version " + std::to_string(found) +
                                          ", this build reads version " + std::to_string(kSchemaVersion) +
                                          " only; drain it with the build that wrote it, or move the file away");
    }
    db_->exec(kSchema);
    db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
  }
  st_ = std::make_unique<Statements>(*db_);
  if (config_.synchronous == StoreConfig::Synchronous::kFull) {
    // The schema transaction above created the WAL; it stays (same inode) while a connection is open.
    const std::string wal = config_.path + "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) throw SqliteError(SQLITE_CANTOPEN, "cannot open " + wal + " to flush it: " + std::strerror(errno));
  }
  reader_ = std::make_unique<Database>(config_.path);
  sqlite3_busy_timeout(reader_->handle(), static_cast<int>(config_.busy_timeout.count()));
  // Replaces SQLite's automatic checkpoint (which would run inside the committing transaction).
  sqlite3_wal_hook(db_->handle(), &SqliteInbox::on_wal_commit, this);
  checkpointer_ = std::thread([this] {
    set_thread_name("tandem-ckpt");
    run_checkpointer();
  });
}

SqliteInbox::~SqliteInbox() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_wake_.notify_all();
  checkpointer_.join();
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

std::uint64_t SqliteInbox::note_commit() { return committed_.fetch_add(1, std::memory_order_acq_rel) + 1; }

std::optional<InboxError> SqliteInbox::sync(webhooks::AppendTicket ticket) {
  if (wal_fd_ < 0) return std::nullopt;  // kNormal: durable against a crash of the process only
  std::lock_guard lock(sync_mutex_);
  if (synced_ >= ticket.sequence) return std::nullopt;  // a flush that started later covered it
  // Every transaction counted here has written its frames: this flush covers them all.
  const std::uint64_t target = committed_.load(std::memory_order_acquire);
  if (::fdatasync(wal_fd_) != 0) {
    return InboxError{"cannot flush " + config_.path + "-wal: " + std::strerror(errno)};
  }
  synced_ = target;
  return std::nullopt;
}

void SqliteInbox::sync_or_throw() {
  if (auto error = sync({note_commit()})) throw std::runtime_error(error->message);
}

namespace {
// A checkpoint pass per 32 MiB of WAL (SQLite's automatic one is per ~4 MB): every pass ends with
// an fsync of the database and writes the pages every commit touches (the right edges of the
// b-trees) again. Measured under load: 16 MiB gave ~10% more events/s than 4 MB, 32 MiB ~5% more
// than 16 MiB (three interleaved runs each).
constexpr int kCheckpointPages = 2048;
// WAL size (64 MiB) from which a checkpoint holds the writer back (~15-30 ms here) to let the WAL
// restart: at 16 MiB the writer stood still ~10% of the time under a steady 75 MB/s of events.
constexpr int kRestartPages = 4096;
// Before the held pass: at most this many catch-up passes, stopping once one finds no more than
// kHeldResidualPages (4 MiB) new.
constexpr int kCatchUpPasses = 6;
constexpr int kHeldResidualPages = 256;
}  // namespace

int SqliteInbox::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* inbox = static_cast<SqliteInbox*>(self);
  if (pages >= kCheckpointPages) {
    {
      std::lock_guard lock(inbox->checkpoint_mutex_);
      inbox->checkpoint_due_ = true;
    }
    inbox->checkpoint_wake_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteInbox::run_checkpointer() {
  std::unique_ptr<Database> db;
  try {
    db = std::make_unique<Database>(config_.path);
    sqlite3_busy_timeout(db->handle(), static_cast<int>(config_.busy_timeout.count()));
    // A connection learns the journal mode when it first reads the file; until then a
    // checkpoint is a no-op. The checkpoint's fsyncs follow this connection's setting.
    db->exec("PRAGMA journal_mode = WAL");
    db->exec(config_.synchronous == StoreConfig::Synchronous::kFull ? "PRAGMA synchronous = FULL"
                                                                      : "PRAGMA synchronous = NORMAL");
  } catch (const SqliteError&) {
    return;  // the main connection opened the same file; without this one, WAL just grows
  }
  int held_at = 0;
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || checkpoint_stop_; });
    if (checkpoint_stop_) break;
    checkpoint_due_ = false;
    lock.unlock();
    int wal_pages = 0;
    int copied = 0;
    sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
    // held_at: the WAL's size at the last held pass; until a commit restarts the WAL, another
    // held pass would find nothing to copy.
    if (wal_pages >= kRestartPages && wal_pages != held_at) {
      // Under a steady stream the writer appends while a PASSIVE checkpoint copies, so the WAL
      // is never fully copied and never starts over: it grew by hundreds of MB in seconds, every
      // commit wrote fresh blocks (ext4 allocation, and a journal commit in every fdatasync for
      // the new size). So: more passes without the writer until one finds little new (each
      // copies only what the writer added during the last), then one while holding the writer's
      // mutex, which copies the rest; the next commit starts the WAL over, overwriting blocks
      // that already exist. The held pass is short because the residual is (a copy of a few
      // hundred pages and an fsync).
      for (int pass = 0; pass < kCatchUpPasses; ++pass) {
        const int before = wal_pages;
        sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
        if (wal_pages - before <= kHeldResidualPages) break;
      }
      std::lock_guard writer(mutex_);
      sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
      held_at = wal_pages;
    }
    lock.lock();
  }
}

std::optional<InboxError> SqliteInbox::append_committed(std::span<const std::vector<Event>* const> batches,
                                                        std::vector<AppendOutcome>& outcomes,
                                                        webhooks::AppendTicket& ticket) {
  std::lock_guard lock(mutex_);
  outcomes.assign(batches.size(), AppendOutcome{});
  try {
    const std::int64_t now = to_epoch_ms(clock_.now());
    Transaction tx(*db_);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<Event>& events = *batches[b];
      for (std::size_t first = 0; first < events.size(); first += Statements::kMaxRowsPerInsert) {
        const std::size_t rows = std::min(Statements::kMaxRowsPerInsert, events.size() - first);
        // Left reset by its last use (rewind() below, or step() on an error); every parameter is
        // bound again here.
        Statement& ins = st_->insert_rows(*db_, rows);
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
        ins.step();
        // OR IGNORE also skips a repeat inside the same statement; changes() counts only the rows
        // inserted.
        const auto inserted = static_cast<std::size_t>(db_->changes());
        outcomes[b].stored += inserted;
        outcomes[b].duplicates += rows - inserted;
        ins.rewind();
      }
    }
    tx.commit();
    ticket.sequence = note_commit();
    return std::nullopt;
  } catch (const SqliteError& error) {
    outcomes.assign(batches.size(), AppendOutcome{});
    return InboxError{error.what()};
  }
}

std::vector<StoredEvent> SqliteInbox::claim(std::size_t max, std::chrono::milliseconds lease,
                                            const std::string& consumer) {
  std::vector<StoredEvent> claimed;
  if (max == 0) return claimed;
  std::unique_lock lock(mutex_);
  const std::int64_t now = to_epoch_ms(clock_.now());
  Transaction tx(*db_);
  st_->expire_dead.reset();
  st_->expire_dead.bind(1, now).bind(2, std::int64_t{max_attempts_});
  st_->expire_dead.step();
  st_->expire_retry.reset();
  st_->expire_retry.bind(1, now);
  st_->expire_retry.step();
  auto take = [&](Statement& c, std::int64_t bound, std::size_t n) {
    c.reset();
    c.bind(1, std::string_view(consumer)).bind(2, now + lease.count()).bind(3, bound).bind(4, static_cast<std::int64_t>(n));
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
  lock.unlock();
  sync_or_throw();
  std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return claimed;
}

bool SqliteInbox::acknowledge(std::int64_t id, const std::string& consumer) {
  std::unique_lock lock(mutex_);
  Statement& a = st_->ack;
  a.reset();
  a.bind(1, id).bind(2, std::string_view(consumer));
  a.step();
  const bool acknowledged = db_->changes() > 0;
  lock.unlock();
  if (acknowledged) sync_or_throw();
  return acknowledged;
}

bool SqliteInbox::fail(std::int64_t id, const std::string& consumer, const std::string& reason,
                       std::chrono::milliseconds retry_after) {
  std::unique_lock lock(mutex_);
  const std::int64_t now = to_epoch_ms(clock_.now());
  Transaction tx(*db_);
  Statement& q = st_->attempts_of;
  q.reset();
  q.bind(1, id).bind(2, std::string_view(consumer));
  if (!q.step()) {
    q.reset();
    return false;
  }
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
  lock.unlock();
  sync_or_throw();
  return true;
}

std::size_t SqliteInbox::replay(std::optional<std::int64_t> id, EventState from) {
  std::unique_lock lock(mutex_);
  const std::int64_t now = to_epoch_ms(clock_.now());
  // 'retry' whatever the row's id: claim() finds such rows by index, while fresh_from only ever
  // moves up past rows that are no longer 'pending'.
  std::string sql =
      "UPDATE inbox_events SET state = 'retry', attempts = 0, lease_owner = NULL, available_at = ?1 "
      "WHERE state IN " + stored_states(from);
  if (id) sql += " AND id = ?2";
  Statement s(*db_, sql);
  s.bind(1, now);
  if (id) s.bind(2, *id);
  s.step();
  const auto replayed = static_cast<std::size_t>(db_->changes());
  lock.unlock();
  if (replayed > 0) sync_or_throw();
  return replayed;
}

webhooks::InboxStats SqliteInbox::stats() {
  std::lock_guard lock(reader_mutex_);
  webhooks::InboxStats out;
  // One pass over the table (there is no index over every row's state).
  Statement s(*reader_,
              "SELECT count(*) FILTER (WHERE state IN ('pending', 'retry', 'claimed')), "
              "count(*) FILTER (WHERE state = 'claimed'), count(*) FILTER (WHERE state = 'done'), "
              "count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state = 'skipped'), "
              "count(*) FILTER (WHERE known_type = 0), "
              "min(received_at) FILTER (WHERE state IN ('pending', 'retry', 'claimed')) FROM inbox_events");
  if (!s.step()) return out;
  out.pending = s.column_int(0);
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
}

std::vector<StoredEvent> SqliteInbox::list(const webhooks::ListFilter& filter) {
  std::lock_guard lock(reader_mutex_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM inbox_events WHERE id > ?1";
  if (filter.state) sql += " AND state IN " + stored_states(*filter.state);
  sql += " ORDER BY id LIMIT ?2";
  Statement s(*reader_, sql);
  s.bind(1, filter.after_id).bind(2, static_cast<std::int64_t>(filter.limit));
  std::vector<StoredEvent> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

bool SqliteInbox::writable() {
  std::lock_guard lock(mutex_);
  try {
    // BEGIN IMMEDIATE takes the write lock: proves the file is writable and not locked by another
    // process, without writing anything.
    db_->exec("BEGIN IMMEDIATE");
    db_->exec("ROLLBACK");
    return true;
  } catch (const SqliteError&) {
    return false;
  }
}

std::size_t SqliteInbox::purge(std::chrono::milliseconds retention) {
  // The dedup key must outlive HubSpot's retry window (24 h) with margin: never less than 48 h.
  retention = std::max<std::chrono::milliseconds>(retention, std::chrono::hours{48});
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  Statement s(*db_,
              "DELETE FROM inbox_events WHERE state IN ('done', 'skipped') AND received_at < ?1");
  s.bind(1, to_epoch_ms(clock_.now()) - retention.count());
  s.step();
  const auto deleted = static_cast<std::size_t>(db_->changes());
  // Should the newest rows have gone, SQLite gives the next event the id after the highest one
  // left: keep fresh_from at or below it. Every 'pending' row is above that id anyway.
  if (deleted > 0) {
    db_->exec(
        "UPDATE inbox_queue SET fresh_from = min(fresh_from, (SELECT coalesce(max(id), 0) + 1 FROM inbox_events))");
  }
  tx.commit();
  return deleted;
}

}  // namespace tandem::store
