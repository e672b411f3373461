#pragma once
// The audit log: every decision Tandem takes for a contact (a hand-off, a return to nurture, a
// task, an escalation), with the rules version and the reasons, recorded in the same unit of
// work as the inbox acknowledgement and the planned writes that the decision caused. It is what
// the console shows an admin who asks "why did Tandem do this?", and the data of the scoreboards.
// Declared here (the module that records it); implemented in store/.

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unit_of_work.hpp"

namespace tandem::pipeline {

struct AuditEntry {
  std::int64_t id = 0;  // assigned by record(), increasing in recording order
  std::int64_t portal_id = 0;
  std::int64_t contact_id = 0;
  std::int64_t at = 0;           // epoch ms of the decision
  std::string kind;              // what was decided, e.g. "handoff", "return_to_nurture", "follow_up_task"
  std::string rules_version;     // of the rule files that decided
  std::int64_t source_event = 0;  // the inbox event that led to it; 0 for timers and backfill
  std::string detail;            // a JSON object: the reasons, point by point
};

struct AuditQuery {
  std::int64_t portal_id = 0;   // 0: every account
  std::int64_t contact_id = 0;  // 0: every contact
  std::int64_t after_id = 0;    // paging: entries with id > after_id
  std::size_t limit = 100;
};

struct AuditError {
  std::string message;  // the storage layer failed
  friend std::ostream& operator<<(std::ostream& os, const AuditError& e) { return os << e.message; }
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Records `entry` inside `unit` (common/unit_of_work.hpp): it exists exactly when the unit
  // commits. Returns the entry's id. Only inside the unit's work function, on its thread.
  virtual Result<std::int64_t, AuditError> record(UnitOfWork& unit, const AuditEntry& entry) = 0;
  // Entries in recording order. Thread-safe; never waits for a writer.
  virtual Result<std::vector<AuditEntry>, AuditError> list(const AuditQuery& query) = 0;
  // Deletes entries decided before `before` (epoch ms): the retention. Returns how many went.
  virtual Result<std::size_t, AuditError> purge(std::int64_t before) = 0;
};

}  // namespace tandem::pipeline
