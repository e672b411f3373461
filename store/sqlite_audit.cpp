#include "store/sqlite_audit.hpp"

namespace tandem::store {
namespace {

constexpr std::string_view kAuditV1 = R"sql(
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY,
  portal_id     INTEGER NOT NULL,
  contact_id    INTEGER NOT NULL,
  at            INTEGER NOT NULL,
  kind          TEXT    NOT NULL,
  rules_version TEXT    NOT NULL,
  source_event  INTEGER NOT NULL,
  detail        TEXT    NOT NULL
);
CREATE INDEX audit_log_contact ON audit_log (portal_id, contact_id, id);
)sql";

constexpr Migration kMigrations[] = {{1, kAuditV1}};

}  // namespace

SqliteAuditLog::SqliteAuditLog(Database& db) : db_(db) { db_.migrate("audit", kMigrations); }

Result<std::int64_t, pipeline::AuditError> SqliteAuditLog::record(UnitOfWork& unit, const pipeline::AuditEntry& e) {
  try {
    Connection& c = SqliteUnitOfWork::of(unit).connection();
    // Prepared per call: decisions are a few per contact change, far from the intake's rates.
    Statement s(c,
                "INSERT INTO audit_log (portal_id, contact_id, at, kind, rules_version, source_event, detail) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    s.bind(1, e.portal_id)
        .bind(2, e.contact_id)
        .bind(3, e.at)
        .bind(4, e.kind)
        .bind(5, e.rules_version)
        .bind(6, e.source_event)
        .bind(7, e.detail);
    s.step();
    return c.last_insert_rowid();
  } catch (const SqliteError& error) {
    return pipeline::AuditError{error.what()};
  }
}

Result<std::vector<pipeline::AuditEntry>, pipeline::AuditError> SqliteAuditLog::list(
    const pipeline::AuditQuery& q) {
  try {
    return db_.with_reader([&](Connection& reader) {
      Statement s(reader,
                  "SELECT id, portal_id, contact_id, at, kind, rules_version, source_event, detail FROM audit_log "
                  "WHERE id > ?1 AND (?2 = 0 OR portal_id = ?2) AND (?3 = 0 OR contact_id = ?3) "
                  "ORDER BY id LIMIT ?4");
      s.bind(1, q.after_id).bind(2, q.portal_id).bind(3, q.contact_id).bind(4, static_cast<std::int64_t>(q.limit));
      std::vector<pipeline::AuditEntry> out;
      while (s.step()) {
        pipeline::AuditEntry e;
        e.id = s.column_int(0);
        e.portal_id = s.column_int(1);
        e.contact_id = s.column_int(2);
        e.at = s.column_int(3);
        e.kind = s.column_text(4);
        e.rules_version = s.column_text(5);
        e.source_event = s.column_int(6);
        e.detail = s.column_text(7);
        out.push_back(std::move(e));
      }
      return out;
    });
  } catch (const SqliteError& error) {
    return pipeline::AuditError{error.what()};
  }
}

Result<std::size_t, pipeline::AuditError> SqliteAuditLog::purge(std::int64_t before) {
  std::uint64_t sequence = 0;
  std::size_t n = 0;
  try {
    db_.with_writer([&](Connection& w) {
      Transaction tx(w);
      Statement s(w, "DELETE FROM audit_log WHERE at < ?1");
      s.bind(1, before);
      s.step();
      n = static_cast<std::size_t>(w.changes());
      tx.commit();
      sequence = db_.note_commit();
    });
  } catch (const SqliteError& error) {
    return pipeline::AuditError{error.what()};
  }
  if (auto synced = db_.sync(sequence); !synced) return pipeline::AuditError{synced.error().message};
  return n;
}

}  // namespace tandem::store
