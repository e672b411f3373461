#include "store/sqlite_contact_states.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace tandem::store {
namespace {

using pipeline::DueContact;
using pipeline::StageTransition;
using pipeline::StateError;
using pipeline::StoredContact;

constexpr std::string_view kContactsV1 = R"sql(
CREATE TABLE contact_states (
  portal_id         INTEGER NOT NULL,
  contact_id        TEXT    NOT NULL,
  rules_state       TEXT    NOT NULL,   -- rules::ContactState as JSON
  stage             TEXT    NOT NULL DEFAULT '',
  rules_version     TEXT    NOT NULL DEFAULT '',
  evaluated_at      INTEGER NOT NULL DEFAULT 0,
  evaluations       INTEGER NOT NULL DEFAULT 0,
  next_check_at     INTEGER NOT NULL DEFAULT 0,   -- 0: no timer
  next_check_reason TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (portal_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_states_timer ON contact_states (next_check_at) WHERE next_check_at > 0;

CREATE TABLE stage_transitions (
  id            INTEGER PRIMARY KEY,
  portal_id     INTEGER NOT NULL,
  contact_id    TEXT    NOT NULL,
  at            INTEGER NOT NULL,
  from_stage    TEXT    NOT NULL,
  to_stage      TEXT    NOT NULL,
  cause         TEXT    NOT NULL,
  rule          TEXT    NOT NULL,
  rules_version TEXT    NOT NULL,
  source        TEXT    NOT NULL,
  source_id     TEXT    NOT NULL,
  event_id      INTEGER NOT NULL
);
CREATE INDEX stage_transitions_contact ON stage_transitions (portal_id, contact_id, at);

CREATE TABLE backfills (
  portal_id   INTEGER PRIMARY KEY,
  after       TEXT    NOT NULL,
  contacts    INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  last_error  TEXT    NOT NULL
);
)sql";

// The campaign each contact is counted for (the campaigns file beside the rules) and whether it is
// a relevant lead of it, as the last decision found: what the scoreboards count.
constexpr std::string_view kContactsV2 = R"sql(
ALTER TABLE contact_states ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
ALTER TABLE contact_states ADD COLUMN relevant INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr Migration kMigrations[] = {{1, kContactsV1}, {2, kContactsV2}};

std::string encode(const rules::ContactState& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.stage_entered_at) j["stage_entered_at"] = *s.stage_entered_at;
  if (s.recycle_count) j["recycle_count"] = s.recycle_count;
  if (s.cool_off_until) j["cool_off_until"] = *s.cool_off_until;
  if (!s.last_return_reason.empty()) j["last_return_reason"] = s.last_return_reason;
  if (!s.fired.empty()) j["fired"] = s.fired;
  return j.dump();
}

rules::ContactState decode(const std::string& text) {
  rules::ContactState s;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw SqliteError(0, "contact_states.rules_state is not a JSON object");
  if (auto it = j.find("stage_entered_at"); it != j.end() && it->is_number_integer()) s.stage_entered_at = it->get<std::int64_t>();
  if (auto it = j.find("recycle_count"); it != j.end() && it->is_number_integer()) s.recycle_count = it->get<std::int32_t>();
  if (auto it = j.find("cool_off_until"); it != j.end() && it->is_number_integer()) s.cool_off_until = it->get<std::int64_t>();
  if (auto it = j.find("last_return_reason"); it != j.end() && it->is_string()) s.last_return_reason = it->get<std::string>();
  if (auto it = j.find("fired"); it != j.end() && it->is_array())
    for (const auto& f : *it)
      if (f.is_string()) s.fired.push_back(f.get<std::string>());
  return s;
}

StoredContact read_row(const Statement& s, int first) {
  StoredContact c;
  c.rules = decode(s.column_text(first));
  c.stage = s.column_text(first + 1);
  c.rules_version = s.column_text(first + 2);
  c.evaluated_at = s.column_int(first + 3);
  c.evaluations = s.column_int(first + 4);
  c.next_check_at = s.column_int(first + 5);
  c.next_check_reason = s.column_text(first + 6);
  c.campaign = s.column_text(first + 7);
  c.relevant = s.column_int(first + 8) != 0;
  return c;
}

constexpr const char* kColumns =
    "rules_state, stage, rules_version, evaluated_at, evaluations, next_check_at, next_check_reason, campaign, relevant";

void upsert(Connection& c, std::int64_t portal, const std::string& id, const StoredContact& st) {
  Statement s(c,
              "INSERT INTO contact_states (portal_id, contact_id, rules_state, stage, rules_version, evaluated_at, "
              "evaluations, next_check_at, next_check_reason, campaign, relevant) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
              "ON CONFLICT (portal_id, contact_id) DO UPDATE SET rules_state = excluded.rules_state, "
              "stage = excluded.stage, rules_version = excluded.rules_version, evaluated_at = excluded.evaluated_at, "
              "evaluations = excluded.evaluations, next_check_at = excluded.next_check_at, "
              "next_check_reason = excluded.next_check_reason, campaign = excluded.campaign, "
              "relevant = excluded.relevant");
  s.bind(1, portal)
      .bind(2, id)
      .bind(3, encode(st.rules))
      .bind(4, st.stage)
      .bind(5, st.rules_version)
      .bind(6, st.evaluated_at)
      .bind(7, st.evaluations)
      .bind(8, st.next_check_at)
      .bind(9, st.next_check_reason)
      .bind(10, st.campaign)
      .bind(11, static_cast<std::int64_t>(st.relevant ? 1 : 0));
  s.step();
}

std::optional<StoredContact> load_one(Connection& c, std::int64_t portal, const std::string& id) {
  Statement s(c, std::string("SELECT ") + kColumns + " FROM contact_states WHERE portal_id = ?1 AND contact_id = ?2");
  s.bind(1, portal).bind(2, id);
  if (!s.step()) return std::nullopt;
  return read_row(s, 0);
}

template <class F>
auto guarded(F&& f) -> Result<decltype(f()), StateError> {
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      return {};
    } else {
      return f();
    }
  } catch (const std::exception& e) {
    return StateError{e.what()};
  }
}

}  // namespace

SqliteContactStates::SqliteContactStates(Database& db) : db_(db) { db_.migrate("contacts", kMigrations); }

Result<std::map<std::string, StoredContact>, StateError> SqliteContactStates::load(std::int64_t portal,
                                                                                   std::span<const std::string> ids) {
  return guarded([&] {
    return db_.with_reader([&](Connection& reader) {
      std::map<std::string, StoredContact> out;
      Statement s(reader,
                  std::string("SELECT ") + kColumns + " FROM contact_states WHERE portal_id = ?1 AND contact_id = ?2");
      for (const auto& id : ids) {
        s.reset();
        s.bind(1, portal).bind(2, id);
        if (s.step()) out.emplace(id, read_row(s, 0));
      }
      return out;
    });
  });
}

Result<void, StateError> SqliteContactStates::save(UnitOfWork& unit, std::int64_t portal, const std::string& id,
                                                   const StoredContact& state) {
  return guarded([&] { upsert(SqliteUnitOfWork::of(unit).connection(), portal, id, state); });
}

Result<std::vector<DueContact>, StateError> SqliteContactStates::claim_due(std::int64_t now, std::size_t max,
                                                                           std::int64_t lease_ms) {
  std::uint64_t sequence = 0;
  auto out = guarded([&] {
    return db_.with_writer([&](Connection& w) {
      Transaction tx(w);
      std::vector<DueContact> due;
      {
        Statement s(w,
                    "SELECT portal_id, contact_id, next_check_at, next_check_reason FROM contact_states "
                    "WHERE next_check_at > 0 AND next_check_at <= ?1 ORDER BY next_check_at LIMIT ?2");
        s.bind(1, now).bind(2, static_cast<std::int64_t>(max));
        while (s.step()) due.push_back({s.column_int(0), s.column_text(1), s.column_int(2), s.column_text(3)});
      }
      if (due.empty()) return due;
      Statement u(w, "UPDATE contact_states SET next_check_at = ?3 WHERE portal_id = ?1 AND contact_id = ?2");
      for (const auto& d : due) {
        u.reset();
        u.bind(1, d.portal_id).bind(2, d.contact_id).bind(3, now + std::max<std::int64_t>(1, lease_ms));
        u.step();
      }
      tx.commit();
      sequence = db_.note_commit();
      return due;
    });
  });
  if (!out) return out;
  if (sequence != 0)
    if (auto synced = db_.sync(sequence); !synced) return StateError{synced.error().message};
  return out;
}

Result<std::optional<std::int64_t>, StateError> SqliteContactStates::next_due() {
  return guarded([&] {
    return db_.with_reader([&](Connection& reader) -> std::optional<std::int64_t> {
      Statement s(reader, "SELECT MIN(next_check_at) FROM contact_states WHERE next_check_at > 0");
      if (!s.step() || s.column_is_null(0)) return std::nullopt;
      return s.column_int(0);
    });
  });
}

Result<pipeline::TimerStats, StateError> SqliteContactStates::timer_stats(std::int64_t now) {
  return guarded([&] {
    return db_.with_reader([&](Connection& reader) {
      pipeline::TimerStats t;
      Statement s(reader,
                  "SELECT COUNT(*), COALESCE(SUM(next_check_at <= ?1), 0), MIN(next_check_at) FROM contact_states "
                  "WHERE next_check_at > 0");
      s.bind(1, now);
      if (s.step()) {
        t.scheduled = s.column_int(0);
        t.overdue = s.column_int(1);
        if (!s.column_is_null(2) && s.column_int(2) <= now) t.oldest_overdue_ms = now - s.column_int(2);
      }
      return t;
    });
  });
}

Result<void, StateError> SqliteContactStates::merge(UnitOfWork& unit, std::int64_t portal, const std::string& from,
                                                    const std::string& into) {
  return guarded([&] {
    Connection& c = SqliteUnitOfWork::of(unit).connection();
    auto loser = load_one(c, portal, from);
    if (!loser) return;
    auto kept = load_one(c, portal, into);
    StoredContact merged = kept ? *kept : *loser;
    if (kept) {
      auto& r = merged.rules;
      const auto& l = loser->rules;
      if (l.stage_entered_at && (!r.stage_entered_at || *l.stage_entered_at < *r.stage_entered_at))
        r.stage_entered_at = l.stage_entered_at;
      r.recycle_count = std::max(r.recycle_count, l.recycle_count);
      if (l.cool_off_until && (!r.cool_off_until || *l.cool_off_until > *r.cool_off_until)) {
        r.cool_off_until = l.cool_off_until;
        r.last_return_reason = l.last_return_reason;
      }
      for (const auto& f : l.fired)
        if (std::find(r.fired.begin(), r.fired.end(), f) == r.fired.end()) r.fired.push_back(f);
      if (loser->next_check_at && (!merged.next_check_at || loser->next_check_at < merged.next_check_at)) {
        merged.next_check_at = loser->next_check_at;
        merged.next_check_reason = loser->next_check_reason;
      }
      merged.evaluations += loser->evaluations;
      // Counted for a campaign when either was (the next decision decides again).
      if (merged.campaign.empty()) {
        merged.campaign = loser->campaign;
        merged.relevant = loser->relevant;
      } else if (merged.campaign == loser->campaign) {
        merged.relevant = merged.relevant || loser->relevant;
      }
    }
    upsert(c, portal, into, merged);
    Statement del(c, "DELETE FROM contact_states WHERE portal_id = ?1 AND contact_id = ?2");
    del.bind(1, portal).bind(2, from);
    del.step();
    Statement move(c, "UPDATE stage_transitions SET contact_id = ?3 WHERE portal_id = ?1 AND contact_id = ?2");
    move.bind(1, portal).bind(2, from).bind(3, into);
    move.step();
  });
}

Result<void, StateError> SqliteContactStates::record_transition(UnitOfWork& unit, const StageTransition& t) {
  return guarded([&] {
    Connection& c = SqliteUnitOfWork::of(unit).connection();
    Statement s(c,
                "INSERT INTO stage_transitions (portal_id, contact_id, at, from_stage, to_stage, cause, rule, "
                "rules_version, source, source_id, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, t.portal_id)
        .bind(2, t.contact_id)
        .bind(3, t.at)
        .bind(4, t.from)
        .bind(5, t.to)
        .bind(6, t.cause)
        .bind(7, t.rule)
        .bind(8, t.rules_version)
        .bind(9, t.source)
        .bind(10, t.source_id)
        .bind(11, t.event_id);
    s.step();
  });
}

Result<std::vector<StageTransition>, StateError> SqliteContactStates::transitions(std::int64_t portal,
                                                                                   const std::string& contact_id,
                                                                                   std::size_t limit) {
  return guarded([&] {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader,
                  "SELECT portal_id, contact_id, at, from_stage, to_stage, cause, rule, rules_version, source, "
                  "source_id, event_id FROM stage_transitions WHERE portal_id = ?1 AND (?2 = '' OR contact_id = ?2) "
                  "ORDER BY at, id LIMIT ?3");
      s.bind(1, portal).bind(2, contact_id).bind(3, static_cast<std::int64_t>(limit));
      std::vector<StageTransition> out;
      while (s.step()) {
        StageTransition t;
        t.portal_id = s.column_int(0);
        t.contact_id = s.column_text(1);
        t.at = s.column_int(2);
        t.from = s.column_text(3);
        t.to = s.column_text(4);
        t.cause = s.column_text(5);
        t.rule = s.column_text(6);
        t.rules_version = s.column_text(7);
        t.source = s.column_text(8);
        t.source_id = s.column_text(9);
        t.event_id = s.column_int(10);
        out.push_back(std::move(t));
      }
      return out;
    });
  });
}

Result<std::size_t, StateError> SqliteContactStates::purge_transitions(std::int64_t before) {
  std::uint64_t sequence = 0;
  auto out = guarded([&] {
    return db_.with_writer([&](Connection& w) {
      Transaction tx(w);
      Statement s(w, "DELETE FROM stage_transitions WHERE at < ?1");
      s.bind(1, before);
      s.step();
      auto n = static_cast<std::size_t>(w.changes());
      tx.commit();
      sequence = db_.note_commit();
      return n;
    });
  });
  if (!out) return out;
  if (auto synced = db_.sync(sequence); !synced) return StateError{synced.error().message};
  return out;
}

Result<std::vector<pipeline::BackfillProgress>, StateError> SqliteContactStates::backfills() {
  return guarded([&] {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader,
                  "SELECT portal_id, after, contacts, started_at, finished_at, last_error FROM backfills ORDER BY portal_id");
      std::vector<pipeline::BackfillProgress> out;
      while (s.step())
        out.push_back({s.column_int(0), s.column_text(1), s.column_int(2), s.column_int(3), s.column_int(4),
                       s.column_text(5)});
      return out;
    });
  });
}

Result<void, StateError> SqliteContactStates::save_backfill(UnitOfWork& unit, const pipeline::BackfillProgress& p) {
  return guarded([&] {
    Statement s(SqliteUnitOfWork::of(unit).connection(),
                "INSERT OR REPLACE INTO backfills (portal_id, after, contacts, started_at, finished_at, last_error) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bind(1, p.portal_id).bind(2, p.after).bind(3, p.contacts).bind(4, p.started_at).bind(5, p.finished_at).bind(6, p.last_error);
    s.step();
  });
}

Result<void, StateError> SqliteContactStates::for_each(
    std::int64_t portal, const std::function<void(std::int64_t, const std::string&, const StoredContact&)>& fn) {
  return guarded([&] {
    db_.with_reader([&](Connection& reader) {
      Statement s(reader, std::string("SELECT portal_id, contact_id, ") + kColumns +
                              " FROM contact_states WHERE (?1 = 0 OR portal_id = ?1) ORDER BY portal_id, contact_id");
      s.bind(1, portal);
      while (s.step()) fn(s.column_int(0), s.column_text(1), read_row(s, 2));
    });
  });
}

Result<std::size_t, StateError> SqliteContactStates::forget_portal(std::int64_t portal) {
  std::uint64_t sequence = 0;
  auto out = guarded([&] {
    return db_.with_writer([&](Connection& w) {
      Transaction tx(w);
      std::size_t n = 0;
      for (const char* sql : {"DELETE FROM contact_states WHERE portal_id = ?1",
                              "DELETE FROM stage_transitions WHERE portal_id = ?1",
                              "DELETE FROM backfills WHERE portal_id = ?1"}) {
        Statement s(w, sql);
        s.bind(1, portal);
        s.step();
        n += static_cast<std::size_t>(w.changes());
      }
      tx.commit();
      sequence = db_.note_commit();
      return n;
    });
  });
  if (!out) return out;
  if (auto synced = db_.sync(sequence); !synced) return StateError{synced.error().message};
  return out;
}

}  // namespace tandem::store
