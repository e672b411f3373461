#pragma once
// What Tandem remembers about each contact between two decisions, its timer, and its stage history.
// Declared here (the module that keeps them); implemented in store/ (SQLite now).
//
//   - The rules' state (rules::ContactState: when the contact entered its stage, recycle count,
//     cool-off end, the SLA tasks already created) is loaded before every evaluation and saved in
//     the same unit of work as the writes the decision planned and the inbox acknowledgement.
//   - The timer: one per contact, "evaluate this contact again at T" (an SLA deadline, an
//     escalation, the end of a cool-off). Saving the state sets or clears it. claim_due() leases
//     due timers by moving them `lease` ahead durably, so that a process killed while it handles
//     one fires it again after the lease, and a handled timer fires once: the evaluation that
//     handles it saves the next time (or none) in its unit of work.
//   - Stage transitions: every move of a contact's lifecycle stage that Tandem made or learned of
//     (a person in HubSpot, another app), with its time and cause, for `tandem audit` and the
//     scoreboards.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unit_of_work.hpp"
#include "rules/evaluator.hpp"

namespace tandem::pipeline {

struct StateError {
  std::string message;
  friend std::ostream& operator<<(std::ostream& os, const StateError& e) { return os << e.message; }
};

struct StoredContact {
  rules::ContactState rules;
  std::int64_t evaluated_at = 0;  // epoch ms of the last decision
  std::int64_t evaluations = 0;   // decisions so far
  std::string stage;              // the stage the last decision left the contact in ("" unknown)
  std::string rules_version;      // of the last decision
  // When to evaluate the contact again (epoch ms); 0: no timer.
  std::int64_t next_check_at = 0;
  std::string next_check_reason;  // "First touch on MQL: due", "cool-off ends", ...
  // The campaign the last decision counted the contact for ("" none) and whether it is a relevant
  // lead of it (the campaigns file beside the rules).
  std::string campaign;
  bool relevant = false;
};

struct DueContact {
  std::int64_t portal_id = 0;
  std::string contact_id;
  std::int64_t due_at = 0;  // what the timer said before the claim
  std::string reason;
};

struct StageTransition {
  std::int64_t portal_id = 0;
  std::string contact_id;
  std::int64_t at = 0;  // epoch ms (HubSpot's occurredAt for changes learned from webhooks)
  std::string from, to;
  // "rule": Tandem's rule `rule` under `rules_version`; "person": a user in HubSpot (`source_id`
  // "userId:…"); "integration": another app (`source_id` its app id); "hubspot": HubSpot itself
  // (workflows, imports, forms...), `source` tells which.
  std::string cause;
  std::string rule;
  std::string rules_version;
  std::string source;     // HubSpot's changeSource, for changes learned from webhooks
  std::string source_id;  // HubSpot's sourceId
  std::int64_t event_id = 0;  // the inbox event it came from; 0 for Tandem's own moves
};

// The evaluation of every existing contact of a newly connected account, page by page: saved in
// the unit of work of each page's decisions, so that a restart goes on after the last page done.
struct BackfillProgress {
  std::int64_t portal_id = 0;
  std::string after;              // HubSpot's paging cursor of the next page ("" first page)
  std::int64_t contacts = 0;      // evaluated so far
  std::int64_t started_at = 0;    // epoch ms
  std::int64_t finished_at = 0;   // 0 while running
  std::string last_error;         // of the last page that failed (it is tried again)
};

struct TimerStats {
  std::int64_t scheduled = 0;  // contacts with a timer
  std::int64_t overdue = 0;    // timers due before `now`
  std::int64_t oldest_overdue_ms = 0;
};

class ContactStates {
 public:
  virtual ~ContactStates() = default;

  // The stored state of each contact in `ids` that has one. Thread-safe; blocks on the disk.
  virtual Result<std::map<std::string, StoredContact>, StateError> load(std::int64_t portal,
                                                                        std::span<const std::string> ids) = 0;
  // Saves the state (and with it the timer) inside `unit`.
  virtual Result<void, StateError> save(UnitOfWork& unit, std::int64_t portal, const std::string& contact_id,
                                        const StoredContact& state) = 0;
  // Leases up to `max` timers due at `now`, earliest first: each moves to now + lease, durably.
  virtual Result<std::vector<DueContact>, StateError> claim_due(std::int64_t now, std::size_t max,
                                                                std::int64_t lease_ms) = 0;
  // The earliest timer (nullopt: none). For the pipeline's sleep.
  virtual Result<std::optional<std::int64_t>, StateError> next_due() = 0;
  virtual Result<TimerStats, StateError> timer_stats(std::int64_t now) = 0;

  // The contact `from` was merged into `into` (HubSpot's merge): one state remains, on `into`,
  // with the earlier stage entry, the higher recycle count, the later cool-off, both SLA
  // records, and the earlier timer; `from`'s transitions move to `into`.
  virtual Result<void, StateError> merge(UnitOfWork& unit, std::int64_t portal, const std::string& from,
                                         const std::string& into) = 0;

  virtual Result<void, StateError> record_transition(UnitOfWork& unit, const StageTransition& transition) = 0;
  // A contact's transitions in time order (0: every contact of the portal), at most `limit`.
  virtual Result<std::vector<StageTransition>, StateError> transitions(std::int64_t portal,
                                                                        const std::string& contact_id,
                                                                        std::size_t limit = 1000) = 0;

  // Deletes transitions before `before` (epoch ms): the retention.
  virtual Result<std::size_t, StateError> purge_transitions(std::int64_t before) = 0;

  virtual Result<std::vector<BackfillProgress>, StateError> backfills() = 0;
  virtual Result<void, StateError> save_backfill(UnitOfWork& unit, const BackfillProgress& progress) = 0;

  // Deletes what is kept about every contact of `portal` (an account's data deleted on request).
  virtual Result<std::size_t, StateError> forget_portal(std::int64_t portal) = 0;
};

}  // namespace tandem::pipeline
