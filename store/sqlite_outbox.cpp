#include "store/sqlite_outbox.hpp"

#include <sqlite3.h>

#include <cassert>
#include <set>

#include <openssl/evp.h>

#include "store/sqlite.hpp"

namespace tandem::store {

using hubspot::Completion;
using hubspot::ContactUpdate;
using hubspot::Intent;
using hubspot::ItemState;
using hubspot::Lane;
using hubspot::LifecycleChange;
using hubspot::ListedItem;
using hubspot::OutboxError;
using hubspot::OutboxFilter;
using hubspot::OutboxItem;
using hubspot::OutboxStats;
using hubspot::PropertyWrite;
using hubspot::RecordOutcome;
using hubspot::TaskCreation;

namespace {

constexpr std::string_view kOutboxV1 = R"sql(
-- Every intent key recorded and not yet purged, compacted (SqliteOutbox::Statements::compact()):
-- a key of up to 32 bytes as it is, a longer one as its first 24 bytes and 16 bytes of
-- SHA-256(key). Not the hash alone: callers' keys begin with an increasing part (the inbox event's
-- id), so new keys land at the right edge of this b-tree and a call dirties a few pages of it;
-- random hashes dirtied one page per intent once the table outgrew a call (measured: the record
-- path's cost was mostly copying those pages into the WAL).
CREATE TABLE outbox_keys (
  hash        BLOB    PRIMARY KEY,
  recorded_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per item the drain takes, and per dead record.
--   lane 0 (kContactUpdates): at most one open item (state 0) per (portal, contact); its property
--     values are rows of outbox_values. A dead record of lane 0 is a row of its own holding the
--     values it took in `properties`.
--   lanes 1 and 2 (kLifecycleClear, kLifecycleSet): at most one open item per (portal, contact)
--     over both lanes; `stage` is the target stage. The clear step moves the row to lane 2.
--   lane 3 (kTaskCreates): one row per intent; `properties` holds the task's properties.
CREATE TABLE outbox_items (
  id              INTEGER PRIMARY KEY,
  portal_id       INTEGER NOT NULL,
  lane            INTEGER NOT NULL,
  contact_id      TEXT    NOT NULL,
  state           INTEGER NOT NULL,            -- 0 pending, 2 dead, 3 done (ItemState's numbers)
  in_flight       INTEGER NOT NULL DEFAULT 0,  -- taken and not completed (state 0 only)
  key             TEXT    NOT NULL,            -- the task's key, or the latest intent's
  stage           TEXT    NOT NULL DEFAULT '',
  properties      BLOB    NOT NULL DEFAULT x'',  -- encode_properties()
  recorded_at     INTEGER NOT NULL,            -- first record of what is pending (epoch ms)
  retry_at        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- Lifecycle items: the sequence number of the last change of `stage`. taken_seq: at take(),
  -- the highest sequence handed out (lane 0: of its values; lifecycle: changed_seq), so that
  -- complete() tells what was sent from what was recorded while it was in flight.
  changed_seq     INTEGER NOT NULL DEFAULT 0,
  taken_seq       INTEGER NOT NULL DEFAULT 0,
  outcome_unknown INTEGER NOT NULL DEFAULT 0,
  sent_at         INTEGER NOT NULL DEFAULT 0,
  hubspot_id      TEXT    NOT NULL DEFAULT '',
  last_error      TEXT    NOT NULL DEFAULT '',
  last_status     INTEGER NOT NULL DEFAULT 0,
  finished_at     INTEGER NOT NULL DEFAULT 0   -- done or dead since (epoch ms), for purge()
);
-- Tasks are not in it: a task is never looked up by contact, and its entries (spread over every
-- contact) would dirty index pages all over at each record.
CREATE INDEX outbox_items_open ON outbox_items (portal_id, contact_id, lane) WHERE state = 0 AND lane < 3;
CREATE INDEX outbox_items_queue ON outbox_items (portal_id, lane, id) WHERE state = 0;

-- The pending property values of the open lane-0 item of a contact (the item stands for the
-- (portal, contact) pair): INSERT OR REPLACE keeps the latest value of each property, with the
-- sequence number of its record and the key of its intent. The item's "latest key" is the key of
-- its value with the highest seq: coalescing writes only this small table, never the item row
-- (which sits among task rows, one page each for a thousand contacts).
-- One row: the last sequence number handed out (outbox_values.seq, outbox_items.changed_seq).
-- In the file rather than memory because an admin command in another process (tandem outbox
-- retry) records values too, and a number at or below an in-flight item's taken_seq would be
-- deleted by its completion without having been sent. Read and written once per transaction.
CREATE TABLE outbox_sequence (seq INTEGER NOT NULL);
INSERT INTO outbox_sequence (seq) VALUES (0);

CREATE TABLE outbox_values (
  item_id INTEGER NOT NULL,
  name    TEXT    NOT NULL,
  value   TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  key     TEXT    NOT NULL,
  PRIMARY KEY (item_id, name)
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {{1, kOutboxV1}};

constexpr std::int64_t kPending = 0;
constexpr std::int64_t kDead = 2;
constexpr std::int64_t kDone = 3;
constexpr std::string_view kLifecycleStage = "lifecyclestage";

std::int64_t lane_code(Lane lane) { return static_cast<std::int64_t>(lane); }
Lane lane_of(std::int64_t code) { return code >= 0 && code <= 3 ? static_cast<Lane>(code) : Lane::kContactUpdates; }

OutboxError error_of(const SqliteError& e) { return OutboxError{e.what()}; }

// Properties as one BLOB: for each, the name's length (4 bytes, big-endian), the name, the
// value's length, the value. Read only by this file.
void put_length(std::string& out, std::size_t n) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
}

std::string encode_properties(const std::vector<PropertyWrite>& properties) {
  std::string out;
  for (const auto& p : properties) {
    put_length(out, p.name.size());
    out += p.name;
    put_length(out, p.value.size());
    out += p.value;
  }
  return out;
}

std::vector<PropertyWrite> decode_properties(std::string_view in) {
  std::vector<PropertyWrite> out;
  auto take = [&in](std::string& into) {
    if (in.size() < 4) return false;
    std::size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(4);
    if (in.size() < n) return false;
    into.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  };
  PropertyWrite p;
  while (take(p.name) && take(p.value)) out.push_back(p);
  return out;
}

std::string_view blob_of(const Statement& s, int column) {
  return s.column_is_blob(column) ? s.column_blob(column) : std::string_view();
}

}  // namespace

struct SqliteOutbox::Statements {
  explicit Statements(Connection& db)
      : writer(db),
        insert_key(db, "INSERT OR IGNORE INTO outbox_keys (hash, recorded_at) VALUES (?1, ?2)"),
        find_open(
            db,
            "SELECT id, lane, in_flight FROM outbox_items "
            "WHERE portal_id = ?1 AND contact_id = ?2 AND state = 0 AND lane < 3 AND lane BETWEEN ?3 AND ?4 LIMIT 1"),
        insert_item(db,
                    "INSERT INTO outbox_items (portal_id, lane, contact_id, state, key, stage, properties, "
                    "recorded_at, changed_seq) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8)"),
        set_stage(db, "UPDATE outbox_items SET stage = ?2, key = ?3, changed_seq = ?4 WHERE id = ?1"),
        put_value(db,
                  "INSERT OR REPLACE INTO outbox_values (item_id, name, value, seq, key) VALUES (?1, ?2, ?3, ?4, ?5)"),
        delete_value(db, "DELETE FROM outbox_values WHERE item_id = ?1 AND name = ?2"),
        count_values(db, "SELECT count(*) FROM outbox_values WHERE item_id = ?1"),
        delete_item(db, "DELETE FROM outbox_items WHERE id = ?1"),
        get_seq(db, "SELECT seq FROM outbox_sequence"),
        set_seq(db, "UPDATE outbox_sequence SET seq = ?1") {}

  Connection& writer;
  Statement insert_key;
  Statement find_open;
  Statement insert_item;
  Statement set_stage;
  Statement put_value;
  Statement delete_value;
  Statement count_values;
  Statement delete_item;
  Statement get_seq;
  Statement set_seq;

  // SHA-256 with the digest fetched once (an implicit fetch per call costs more than the hash).
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char hash[EVP_MAX_MD_SIZE];

  ~Statements() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }

  std::string compacted;
  std::string_view compact(std::string_view key) {
    if (key.size() <= 32) return key;
    unsigned int size = 0;
    if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx, key.data(), key.size()) != 1 || EVP_DigestFinal_ex(ctx, hash, &size) != 1) {
      throw SqliteError(0, "outbox: SHA-256 failed");
    }
    compacted.assign(key.substr(0, 24));
    compacted.append(reinterpret_cast<const char*>(hash), 16);
    return compacted;
  }
};

SqliteOutbox::SqliteOutbox(Database& db) : db_(db) {
  db_.migrate("outbox", kMigrations);
  db_.with_writer([&](Connection& writer) { st_ = std::make_unique<Statements>(writer); });
}

SqliteOutbox::~SqliteOutbox() {
  db_.with_writer([&](Connection&) { st_.reset(); });
}

template <class T, class F>
Result<T, OutboxError> SqliteOutbox::write(F&& f) {
  std::uint64_t sequence = 0;
  std::optional<T> out;
  try {
    db_.with_writer([&](Connection& writer) {
      Transaction tx(writer);
      const auto before = sqlite3_total_changes64(writer.handle());
      out.emplace(f(writer));
      const bool changed = sqlite3_total_changes64(writer.handle()) != before;
      tx.commit();
      // A transaction that changed nothing (a take() of an empty lane, the writer's most frequent
      // call) needs no flush: five accounts polling their lanes cost ~5 flushes per request.
      if (changed) sequence = db_.note_commit();
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
  if (sequence != 0)
    if (auto synced = db_.sync(sequence); !synced) return OutboxError{synced.error().message};
  return std::move(*out);
}

bool SqliteOutbox::record_key(const std::string& key, std::int64_t now) {
  Statement& s = st_->insert_key;
  s.reset();
  s.bind_blob_static(1, st_->compact(key)).bind(2, now);
  s.step();
  return st_->writer.changes() != 0;
}

std::int64_t SqliteOutbox::update_item(std::int64_t portal, const std::string& contact, const std::string& key,
                                       std::int64_t now) {
  Statement& f = st_->find_open;
  f.reset();
  f.bind(1, portal).bind_static(2, contact).bind(3, std::int64_t{0}).bind(4, std::int64_t{0});
  if (f.step()) {
    const std::int64_t id = f.column_int(0);
    f.reset();
    return id;
  }
  f.reset();
  Statement& i = st_->insert_item;
  i.reset();
  i.bind(1, portal).bind(2, lane_code(Lane::kContactUpdates)).bind_static(3, contact).bind_static(4, key);
  i.bind(5, "").bind_blob_static(6, "").bind(7, now).bind(8, std::int64_t{0});
  i.step();
  return st_->writer.last_insert_rowid();
}

void SqliteOutbox::put_value(std::int64_t item, const std::string& name, const std::string& value,
                             const std::string& key) {
  Statement& v = st_->put_value;
  v.reset();
  v.bind(1, item).bind_static(2, name).bind_static(3, value).bind(4, ++seq_).bind_static(5, key);
  v.step();
}

void SqliteOutbox::delete_if_empty(std::int64_t item) {
  Statement& c = st_->count_values;
  c.reset();
  c.bind(1, item);
  const bool empty = c.step() && c.column_int(0) == 0;
  c.reset();
  if (!empty) return;
  Statement s(st_->writer, "DELETE FROM outbox_items WHERE id = ?1 AND in_flight = 0");
  s.bind(1, item);
  s.step();
}

void SqliteOutbox::record_update(const ContactUpdate& u, std::int64_t now) {
  if (u.properties.empty()) return;
  const std::int64_t item = update_item(u.portal_id, u.contact_id, u.key, now);
  for (const auto& p : u.properties) {
    assert(p.name != kLifecycleStage && "record a LifecycleChange for lifecyclestage");
    put_value(item, p.name, p.value, u.key);
  }
}

void SqliteOutbox::record_lifecycle(const LifecycleChange& c, std::int64_t now) {
  Statement& f = st_->find_open;
  f.reset();
  f.bind(1, c.portal_id).bind_static(2, c.contact_id);
  f.bind(3, lane_code(Lane::kLifecycleClear)).bind(4, lane_code(Lane::kLifecycleSet));
  std::int64_t existing = 0;
  if (f.step()) existing = f.column_int(0);
  f.reset();
  if (existing != 0) {
    // A later change replaces the target, forward or backwards: the contact's stage is cleared,
    // or about to be, so any stage can be set next.
    Statement& s = st_->set_stage;
    s.reset();
    s.bind(1, existing).bind_static(2, c.stage).bind_static(3, c.key).bind(4, ++seq_);
    s.step();
    if (!c.backwards) return;
  }
  if (c.backwards) {
    // The two-step change supersedes a forward stage still waiting in the contact's updates.
    f.bind(1, c.portal_id).bind_static(2, c.contact_id).bind(3, std::int64_t{0}).bind(4, std::int64_t{0});
    std::int64_t update = 0;
    if (f.step()) update = f.column_int(0);
    f.reset();
    if (update != 0) {
      Statement& d = st_->delete_value;
      d.reset();
      d.bind(1, update).bind(2, kLifecycleStage);
      d.step();
      if (st_->writer.changes() != 0) delete_if_empty(update);
    }
    if (existing != 0) return;
    Statement& i = st_->insert_item;
    i.reset();
    i.bind(1, c.portal_id).bind(2, lane_code(Lane::kLifecycleClear)).bind_static(3, c.contact_id);
    i.bind_static(4, c.key).bind_static(5, c.stage).bind_blob_static(6, "").bind(7, now).bind(8, ++seq_);
    i.step();
    return;
  }
  const std::int64_t item = update_item(c.portal_id, c.contact_id, c.key, now);
  put_value(item, std::string(kLifecycleStage), c.stage, c.key);
}

void SqliteOutbox::record_task(const TaskCreation& t, std::int64_t now) {
  const std::string properties = encode_properties(t.properties);
  Statement& i = st_->insert_item;
  i.reset();
  i.bind(1, t.portal_id).bind(2, lane_code(Lane::kTaskCreates)).bind_static(3, t.contact_id);
  i.bind_static(4, t.key).bind(5, "").bind_blob_static(6, properties).bind(7, now).bind(8, std::int64_t{0});
  i.step();
  i.reset();
}

void SqliteOutbox::load_sequence() {
  Statement& g = st_->get_seq;
  g.reset();
  seq_ = g.step() ? g.column_int(0) : 0;
  g.reset();
  loaded_seq_ = seq_;
}

void SqliteOutbox::save_sequence() {
  if (seq_ == loaded_seq_) return;
  Statement& u = st_->set_seq;
  u.reset();
  u.bind(1, seq_);
  u.step();
}

RecordOutcome SqliteOutbox::record_on(Connection& writer, std::span<const Intent> intents, std::int64_t now) {
  assert(&writer == &st_->writer && "the outbox's statements belong to the writer connection");
  (void)writer;
  load_sequence();
  RecordOutcome outcome;
  for (const Intent& intent : intents) {
    const std::string& key = std::visit([](const auto& i) -> const std::string& { return i.key; }, intent);
    if (!record_key(key, now)) {
      ++outcome.already_recorded;
      continue;
    }
    ++outcome.recorded;
    if (const auto* u = std::get_if<ContactUpdate>(&intent)) {
      record_update(*u, now);
    } else if (const auto* c = std::get_if<LifecycleChange>(&intent)) {
      record_lifecycle(*c, now);
    } else {
      record_task(std::get<TaskCreation>(intent), now);
    }
  }
  save_sequence();
  return outcome;
}

Result<RecordOutcome, OutboxError> SqliteOutbox::record(UnitOfWork& unit, std::span<const Intent> intents,
                                                        std::int64_t now) {
  // On an error the unit holds part of the intents: its work must roll it back (returning false).
  try {
    return record_on(SqliteUnitOfWork::of(unit).connection(), intents, now);
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

Result<RecordOutcome, OutboxError> SqliteOutbox::record(std::span<const Intent> intents, std::int64_t now) {
  return write<RecordOutcome>([&](Connection& writer) { return record_on(writer, intents, now); });
}

Result<std::vector<std::int64_t>, OutboxError> SqliteOutbox::portals() {
  try {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader, "SELECT DISTINCT portal_id FROM outbox_items WHERE state = 0");
      std::vector<std::int64_t> out;
      while (s.step()) out.push_back(s.column_int(0));
      return out;
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

Result<std::vector<OutboxItem>, OutboxError> SqliteOutbox::take(std::int64_t portal, Lane lane, std::size_t max,
                                                                std::int64_t now) {
  if (max == 0) return std::vector<OutboxItem>{};
  return write<std::vector<OutboxItem>>([&](Connection& writer) {
    std::vector<OutboxItem> out;
    std::set<std::string> busy;  // contacts with an item of this lane in flight or taken now
    {
      Statement s(writer,
                  "SELECT contact_id FROM outbox_items WHERE portal_id = ?1 AND lane = ?2 AND state = 0 "
                  "AND in_flight = 1");
      s.bind(1, portal).bind(2, lane_code(lane));
      while (s.step()) busy.insert(s.column_text(0));
    }
    Statement candidates(writer,
                         "SELECT id, contact_id, key, attempts, outcome_unknown, sent_at, stage, properties, "
                         "changed_seq FROM outbox_items WHERE portal_id = ?1 AND lane = ?2 AND state = 0 "
                         "AND in_flight = 0 AND retry_at <= ?3 ORDER BY id");
    candidates.bind(1, portal).bind(2, lane_code(lane)).bind(3, now);
    Statement values(writer, "SELECT name, value, seq, key FROM outbox_values WHERE item_id = ?1 ORDER BY name");
    Statement mark(writer,
                   "UPDATE outbox_items SET in_flight = 1, taken_seq = ?2, "
                   "sent_at = CASE WHEN lane = 3 AND outcome_unknown = 0 THEN ?3 ELSE sent_at END, "
                   "outcome_unknown = CASE WHEN lane = 3 THEN 1 ELSE outcome_unknown END WHERE id = ?1");
    std::vector<std::int64_t> empty;
    while (out.size() < max && candidates.step()) {
      OutboxItem item;
      item.id = candidates.column_int(0);
      item.contact_id = candidates.column_text(1);
      if (busy.contains(item.contact_id)) continue;
      item.lane = lane;
      item.portal_id = portal;
      item.key = candidates.column_text(2);
      item.attempts = static_cast<int>(candidates.column_int(3));
      item.outcome_unknown = candidates.column_int(4) != 0;
      item.sent_at = candidates.column_int(5);
      std::int64_t taken_seq = candidates.column_int(8);
      switch (lane) {
        case Lane::kContactUpdates:
          taken_seq = 0;
          values.reset();
          values.bind(1, item.id);
          while (values.step()) {
            item.properties.push_back({values.column_text(0), values.column_text(1)});
            if (values.column_int(2) > taken_seq) {
              taken_seq = values.column_int(2);
              item.key = values.column_text(3);
            }
          }
          values.reset();
          break;
        case Lane::kLifecycleClear: item.properties.push_back({std::string(kLifecycleStage), ""}); break;
        case Lane::kLifecycleSet:
          item.properties.push_back({std::string(kLifecycleStage), candidates.column_text(6)});
          break;
        case Lane::kTaskCreates: item.properties = decode_properties(blob_of(candidates, 7)); break;
      }
      if (lane == Lane::kContactUpdates && item.properties.empty()) {
        empty.push_back(item.id);  // every value went with a backwards lifecycle change
        continue;
      }
      mark.reset();
      mark.bind(1, item.id).bind(2, taken_seq).bind(3, now);
      mark.step();
      busy.insert(item.contact_id);
      out.push_back(std::move(item));
    }
    candidates.reset();
    for (std::int64_t id : empty) {
      Statement d(writer, "DELETE FROM outbox_items WHERE id = ?1");
      d.bind(1, id);
      d.step();
    }
    return out;
  });
}

Result<void, OutboxError> SqliteOutbox::complete(std::span<const Completion> completions, std::int64_t now) {
  auto done = write<bool>([&](Connection& writer) {
    Statement get(writer,
                  "SELECT lane, taken_seq, changed_seq, portal_id, contact_id, key, recorded_at, attempts "
                  "FROM outbox_items WHERE id = ?1 AND state = 0 AND in_flight = 1");
    for (const Completion& c : completions) {
      get.reset();
      get.bind(1, c.id);
      // An item that is no longer in flight was dropped (or released) meanwhile: nothing to record.
      if (!get.step()) continue;
      const Lane lane = lane_of(get.column_int(0));
      const std::int64_t taken_seq = get.column_int(1);
      const std::int64_t changed_seq = get.column_int(2);
      const std::int64_t portal = get.column_int(3);
      const std::string contact = get.column_text(4);
      const std::string key = get.column_text(5);
      const std::int64_t recorded_at = get.column_int(6);
      const std::int64_t attempts = get.column_int(7);
      get.reset();
      auto exec = [&](std::string_view sql) {
        // The parameters are the same for every statement here; SQLite refuses to bind one that
        // the statement does not use.
        Statement s(writer, sql);
        s.bind(1, c.id);
        if (sql.find("?2") != std::string_view::npos) s.bind(2, now);
        if (sql.find("?3") != std::string_view::npos) s.bind(3, c.retry_at);
        if (sql.find("?4") != std::string_view::npos) s.bind(4, c.error);
        if (sql.find("?5") != std::string_view::npos) s.bind(5, static_cast<std::int64_t>(c.status));
        if (sql.find("?6") != std::string_view::npos) s.bind(6, c.hubspot_id);
        s.step();
      };
      // Contact updates: the values that were sent go; values recorded since stay pending and the
      // item with them (its age counted from now: they were recorded while it was in flight).
      auto finish_values = [&] {
        Statement d(writer, "DELETE FROM outbox_values WHERE item_id = ?1 AND seq <= ?2");
        d.bind(1, c.id).bind(2, taken_seq);
        d.step();
        exec(
            "UPDATE outbox_items SET in_flight = 0, attempts = 0, retry_at = 0, last_error = '', last_status = 0, "
            "recorded_at = ?2 WHERE id = ?1");
        delete_if_empty(c.id);
      };
      switch (c.kind) {
        case Completion::Kind::kWritten:
          switch (lane) {
            case Lane::kContactUpdates: finish_values(); break;
            case Lane::kLifecycleClear:
              exec(
                  "UPDATE outbox_items SET lane = 2, in_flight = 0, attempts = 0, retry_at = 0, last_error = '', "
                  "last_status = 0 WHERE id = ?1");
              break;
            case Lane::kLifecycleSet:
              if (changed_seq > taken_seq) {
                // The target changed while the set was in flight, possibly backwards from the stage
                // just set: clear again, then set the new target.
                exec("UPDATE outbox_items SET lane = 1, in_flight = 0, attempts = 0, retry_at = 0 WHERE id = ?1");
              } else {
                exec("DELETE FROM outbox_items WHERE id = ?1");
              }
              break;
            case Lane::kTaskCreates:
              exec(
                  "UPDATE outbox_items SET state = 3, in_flight = 0, outcome_unknown = 0, hubspot_id = ?6, "
                  "finished_at = ?2, last_error = '', last_status = 0 WHERE id = ?1");
              break;
          }
          break;
        case Completion::Kind::kRetry:
          exec(
              "UPDATE outbox_items SET in_flight = 0, retry_at = ?3, attempts = attempts + 1, last_error = ?4, "
              "last_status = ?5, outcome_unknown = 0 WHERE id = ?1");
          break;
        case Completion::Kind::kUnknown:
          exec(
              "UPDATE outbox_items SET in_flight = 0, retry_at = ?3, attempts = attempts + 1, last_error = ?4, "
              "last_status = ?5, outcome_unknown = CASE WHEN lane = 3 THEN 1 ELSE 0 END WHERE id = ?1");
          break;
        case Completion::Kind::kDead:
          if (lane == Lane::kContactUpdates) {
            // The values taken become a dead record of their own; values recorded since stay pending.
            // A taken value replaced while in flight is not in the record: only the newer one is
            // stored (and it is the one to send).
            std::vector<PropertyWrite> taken;
            std::string latest_key = key;
            std::int64_t latest = 0;
            Statement v(
                writer,
                "SELECT name, value, seq, key FROM outbox_values WHERE item_id = ?1 AND seq <= ?2 ORDER BY name");
            v.bind(1, c.id).bind(2, taken_seq);
            while (v.step()) {
              taken.push_back({v.column_text(0), v.column_text(1)});
              if (v.column_int(2) > latest) {
                latest = v.column_int(2);
                latest_key = v.column_text(3);
              }
            }
            const std::string blob = encode_properties(taken);
            Statement i(writer,
                        "INSERT INTO outbox_items (portal_id, lane, contact_id, state, key, properties, recorded_at, "
                        "attempts, last_error, last_status, finished_at) "
                        "VALUES (?1, 0, ?2, 2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
            i.bind(1, portal).bind(2, contact).bind(3, latest_key).bind_blob_static(4, blob).bind(5, recorded_at);
            i.bind(6, attempts + 1).bind(7, c.error).bind(8, static_cast<std::int64_t>(c.status)).bind(9, now);
            i.step();
            finish_values();
          } else {
            exec(
                "UPDATE outbox_items SET state = 2, in_flight = 0, attempts = attempts + 1, last_error = ?4, "
                "last_status = ?5, finished_at = ?2 WHERE id = ?1");
          }
          break;
      }
    }
    return true;
  });
  if (!done) return done.error();
  return {};
}

Result<std::optional<std::int64_t>, OutboxError> SqliteOutbox::next_due(std::int64_t portal) {
  try {
    return db_.with_reader([&](Connection& reader) -> std::optional<std::int64_t> {
      Statement s(reader,
                  "SELECT min(retry_at) FROM outbox_items WHERE portal_id = ?1 AND state = 0 AND in_flight = 0");
      s.bind(1, portal);
      if (!s.step() || s.column_is_null(0)) return std::nullopt;
      return s.column_int(0);
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

Result<std::map<std::string, std::vector<PropertyWrite>>, OutboxError> SqliteOutbox::pending_values(
    std::int64_t portal, std::span<const std::string> ids) {
  try {
    return db_.with_reader([&](Connection& reader) {
      std::map<std::string, std::vector<PropertyWrite>> out;
      Statement values(reader,
                       "SELECT v.name, v.value FROM outbox_items i JOIN outbox_values v ON v.item_id = i.id "
                       "WHERE i.portal_id = ?1 AND i.contact_id = ?2 AND i.state = 0 AND i.lane = 0 ORDER BY v.seq");
      Statement stage(reader,
                      "SELECT stage FROM outbox_items WHERE portal_id = ?1 AND contact_id = ?2 AND state = 0 "
                      "AND lane IN (1, 2)");
      for (const auto& id : ids) {
        std::vector<PropertyWrite> pending;
        values.reset();
        values.bind(1, portal).bind(2, id);
        while (values.step()) pending.push_back({values.column_text(0), values.column_text(1)});
        stage.reset();
        stage.bind(1, portal).bind(2, id);
        if (stage.step()) pending.push_back({std::string(kLifecycleStage), stage.column_text(0)});
        if (!pending.empty()) out.emplace(id, std::move(pending));
      }
      return out;
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

Result<std::size_t, OutboxError> SqliteOutbox::release_in_flight() {
  return write<std::size_t>([&](Connection& writer) {
    writer.exec("UPDATE outbox_items SET in_flight = 0 WHERE in_flight = 1");
    return static_cast<std::size_t>(writer.changes());
  });
}

Result<OutboxStats, OutboxError> SqliteOutbox::stats(std::int64_t now) {
  try {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader,
                  "SELECT portal_id, lane, sum(state = 0), sum(state = 2), sum(state = 3), "
                  "min(CASE WHEN state = 0 THEN recorded_at END) FROM outbox_items "
                  "GROUP BY portal_id, lane ORDER BY portal_id, lane");
      OutboxStats out;
      while (s.step()) {
        OutboxStats::PerLane l;
        l.portal_id = s.column_int(0);
        l.lane = lane_of(s.column_int(1));
        l.pending = s.column_int(2);
        l.dead = s.column_int(3);
        l.done = s.column_int(4);
        if (!s.column_is_null(5))
          l.oldest_pending_age = std::chrono::milliseconds(std::max<std::int64_t>(0, now - s.column_int(5)));
        out.lanes.push_back(l);
      }
      return out;
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

Result<std::vector<ListedItem>, OutboxError> SqliteOutbox::list(const OutboxFilter& filter) {
  try {
    return db_.with_reader([&](Connection& reader) {
      Statement s(
          reader,
          "SELECT id, portal_id, lane, state, in_flight, contact_id, key, stage, properties, attempts, "
          "recorded_at, retry_at, hubspot_id, last_error, last_status FROM outbox_items "
          "WHERE id > ?1 AND (?2 IS NULL OR portal_id = ?2) AND (?3 IS NULL OR lane = ?3) "
          "AND (?4 = -1 OR (?4 = 0 AND state = 0 AND in_flight = 0) OR (?4 = 1 AND state = 0 AND in_flight = 1) "
          "OR (?4 >= 2 AND state = ?4)) AND (?6 IS NULL OR contact_id = ?6) ORDER BY id LIMIT ?5");
      s.bind(1, filter.after_id);
      if (filter.portal_id)
        s.bind(2, *filter.portal_id);
      else
        s.bind_null(2);
      if (filter.lane)
        s.bind(3, lane_code(*filter.lane));
      else
        s.bind_null(3);
      s.bind(4, filter.state ? static_cast<std::int64_t>(*filter.state) : std::int64_t{-1});
      s.bind(5, static_cast<std::int64_t>(filter.limit));
      s.bind(6, filter.contact_id);
      Statement values(reader, "SELECT name, value, seq, key FROM outbox_values WHERE item_id = ?1 ORDER BY name");
      std::vector<ListedItem> out;
      while (s.step()) {
        ListedItem item;
        item.id = s.column_int(0);
        item.portal_id = s.column_int(1);
        item.lane = lane_of(s.column_int(2));
        const std::int64_t state = s.column_int(3);
        item.state = state == kDead         ? ItemState::kDead
                     : state == kDone       ? ItemState::kDone
                     : s.column_int(4) != 0 ? ItemState::kInFlight
                                            : ItemState::kPending;
        item.contact_id = s.column_text(5);
        item.key = s.column_text(6);
        if (item.lane == Lane::kLifecycleClear || item.lane == Lane::kLifecycleSet) {
          item.properties.push_back({std::string(kLifecycleStage), s.column_text(7)});  // the target
        } else if (item.lane == Lane::kContactUpdates && state == kPending) {
          values.reset();
          values.bind(1, item.id);
          std::int64_t latest = 0;
          while (values.step()) {
            item.properties.push_back({values.column_text(0), values.column_text(1)});
            if (values.column_int(2) > latest) {
              latest = values.column_int(2);
              item.key = values.column_text(3);
            }
          }
          values.reset();
        } else {
          item.properties = decode_properties(blob_of(s, 8));
        }
        item.attempts = static_cast<int>(s.column_int(9));
        item.recorded_at = s.column_int(10);
        item.retry_at = s.column_int(11);
        item.hubspot_id = s.column_text(12);
        item.last_error = s.column_text(13);
        item.last_status = static_cast<int>(s.column_int(14));
        out.push_back(std::move(item));
      }
      return out;
    });
  } catch (const SqliteError& e) {
    return error_of(e);
  }
}

namespace {
void bind_target(Statement& s, std::optional<std::int64_t> id, std::optional<std::int64_t> portal) {
  if (id)
    s.bind(1, *id);
  else
    s.bind_null(1);
  if (portal)
    s.bind(2, *portal);
  else
    s.bind_null(2);
}
constexpr std::string_view kTarget = "(?1 IS NULL OR id = ?1) AND (?2 IS NULL OR portal_id = ?2)";
}  // namespace

Result<std::size_t, OutboxError> SqliteOutbox::retry(std::optional<std::int64_t> id,
                                                     std::optional<std::int64_t> portal) {
  return write<std::size_t>([&](Connection& writer) {
    struct DeadItem {
      std::int64_t id, portal, lane, recorded_at;
      std::string contact, key, properties;
    };
    std::vector<DeadItem> dead;
    {
      Statement s(writer,
                  "SELECT id, portal_id, lane, contact_id, key, properties, recorded_at FROM outbox_items "
                  "WHERE state = 2 AND " +
                      std::string(kTarget) + " ORDER BY id");
      bind_target(s, id, portal);
      while (s.step()) {
        dead.push_back({s.column_int(0), s.column_int(1), s.column_int(2), s.column_int(6), s.column_text(3),
                        s.column_text(4), std::string(blob_of(s, 5))});
      }
    }
    load_sequence();
    std::size_t count = 0;
    for (const DeadItem& d : dead) {
      ++count;
      const Lane lane = lane_of(d.lane);
      if (lane == Lane::kContactUpdates) {
        // Back into the contact's pending update, under any value recorded since (which is newer).
        const std::int64_t item = update_item(d.portal, d.contact, d.key, d.recorded_at);
        for (const auto& p : decode_properties(d.properties)) {
          Statement v(writer,
                      "INSERT OR IGNORE INTO outbox_values (item_id, name, value, seq, key) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)");
          v.bind(1, item).bind(2, p.name).bind(3, p.value).bind(4, ++seq_).bind(5, d.key);
          v.step();
        }
        Statement x(writer, "DELETE FROM outbox_items WHERE id = ?1");
        x.bind(1, d.id);
        x.step();
        continue;
      }
      if (lane != Lane::kTaskCreates) {
        // A later lifecycle change of the contact replaced this one's target.
        Statement f(writer,
                    "SELECT 1 FROM outbox_items WHERE portal_id = ?1 AND contact_id = ?2 AND state = 0 "
                    "AND lane BETWEEN 1 AND 2");
        f.bind(1, d.portal).bind(2, d.contact);
        if (f.step()) {
          Statement x(writer, "DELETE FROM outbox_items WHERE id = ?1");
          x.bind(1, d.id);
          x.step();
          continue;
        }
      }
      Statement u(writer,
                  "UPDATE outbox_items SET state = 0, in_flight = 0, attempts = 0, retry_at = 0, "
                  "finished_at = 0 WHERE id = ?1");
      u.bind(1, d.id);
      u.step();
    }
    save_sequence();
    return count;
  });
}

Result<std::size_t, OutboxError> SqliteOutbox::drop(std::optional<std::int64_t> id,
                                                    std::optional<std::int64_t> portal) {
  return write<std::size_t>([&](Connection& writer) {
    const std::string target = "state IN (0, 2) AND " + std::string(kTarget);
    Statement v(writer,
                "DELETE FROM outbox_values WHERE item_id IN (SELECT id FROM outbox_items WHERE " + target + ")");
    bind_target(v, id, portal);
    v.step();
    Statement s(writer, "DELETE FROM outbox_items WHERE " + target);
    bind_target(s, id, portal);
    s.step();
    return static_cast<std::size_t>(writer.changes());
  });
}

Result<std::size_t, OutboxError> SqliteOutbox::purge(std::chrono::milliseconds retention, std::int64_t now) {
  return write<std::size_t>([&](Connection& writer) {
    const std::int64_t cutoff = now - retention.count();
    std::size_t count = 0;
    Statement items(writer, "DELETE FROM outbox_items WHERE state = 3 AND finished_at < ?1");
    items.bind(1, cutoff);
    items.step();
    count += static_cast<std::size_t>(writer.changes());
    Statement keys(writer, "DELETE FROM outbox_keys WHERE recorded_at < ?1");
    keys.bind(1, cutoff);
    keys.step();
    count += static_cast<std::size_t>(writer.changes());
    return count;
  });
}

}  // namespace tandem::store
