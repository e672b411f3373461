#pragma once
// The audit log (pipeline/audit.hpp) as a table of the store's SQLite database.

#include "store/database.hpp"
#include "pipeline/audit.hpp"

namespace tandem::store {

class SqliteAuditLog final : public pipeline::AuditLog {
 public:
  // Migrates the audit table (a start-up error, SqliteError, on failure). db must outlive it.
  explicit SqliteAuditLog(Database& db);

  Result<std::int64_t, pipeline::AuditError> record(UnitOfWork& unit, const pipeline::AuditEntry& entry) override;
  Result<std::vector<pipeline::AuditEntry>, pipeline::AuditError> list(const pipeline::AuditQuery& query) override;
  Result<std::size_t, pipeline::AuditError> purge(std::int64_t before) override;

 private:
  Database& db_;
};

}  // namespace tandem::store
