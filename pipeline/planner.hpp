#pragma once
// From a decision of the rules to what Tandem does about it: the writes and tasks to record in the
// outbox, the state and timer to save, the stage transition and the audit entry. A pure function
// (no I/O, no clock), so that the pipeline, its tests and `tandem audit` agree on it.
//
// Every intent has a deterministic key (hubspot/outbox.hpp), so that deciding the same thing
// twice records it once: a duplicate or replayed webhook, an event processed again after a crash,
// a timer fired again after its lease, or a write HubSpot refused and that the next event would
// plan again. The keys name what was decided, not when:
//   stage change   "s:<portal>:<contact>:<recycle count after it>:<stage>"
//   hand-off task  "t:<portal>:<contact>:<recycle count>:q:<qualify rule>"
//   SLA task       "t:<portal>:<contact>:<stage entered at>:sla:<rule>" (":esc:" for escalations)
//   data quality   "t:<portal>:<contact>:<recycle count>:dq"
//   other updates  "u:<decided at>:<portal>:<contact>" (values coalesce; a repeat is harmless)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hubspot/outbox.hpp"
#include "pipeline/audit.hpp"
#include "pipeline/contact_states.hpp"
#include "rules/evaluator.hpp"

namespace tandem::pipeline {

// What made the pipeline look at the contact (for the audit).
struct Trigger {
  std::string kind;  // "webhook", "timer", "backfill", "merge"
  std::vector<std::int64_t> events;  // inbox event ids
  std::vector<std::string> changes;  // "hs_lead_status=BAD_TIMING (CRM_UI userId:42)", "created"
  std::string timer_reason;
};

struct Plan {
  std::vector<hubspot::Intent> intents;
  StoredContact next;                        // to save (with the timer)
  std::optional<StageTransition> transition;  // when the decision moves the stage
  std::optional<AuditEntry> audit;           // when the decision does something a person sees
  // For logs and the demo: one line per action ("review task for owner 2001", ...).
  std::vector<std::string> actions;
};

// `evaluator` made `decision` for `contact` (with trace on, for the audit's explanation).
// `stored` is what was kept before (nullopt: first decision).
Plan plan_decision(const rules::CompiledRuleset& rs, const rules::Evaluator& evaluator,
                   const rules::ContactRecord& contact, const rules::Decision& decision, std::int64_t portal,
                   const std::optional<StoredContact>& stored, const Trigger& trigger);

// When the contact needs to be evaluated again (0: never), and why: the earliest SLA deadline or
// escalation whose task is not created yet, or the end of a cool-off.
std::pair<std::int64_t, std::string> next_check(const rules::CompiledRuleset& rs, const rules::Decision& decision);

}  // namespace tandem::pipeline
