#pragma once
// The lead pipeline inside `tandem serve`: the rules (hot reload), the pipeline loop over the
// inbox and the contact timers, the backfill of newly connected accounts, and what the service
// shows of them:
//   - the rule files are looked at every rules.reload_interval and on SIGHUP; a changed file
//     replaces the running rules only when it compiles without errors. A rejected file keeps the
//     old rules, logs every diagnostic, sets tandem_rules_reload_failing and counts
//     tandem_rules_reloads_total{outcome}; /readyz details "rules" show the version running and
//     the rejection (readiness is unchanged: the service goes on deciding with the old rules);
//   - /readyz details "pipeline" (timers scheduled and overdue, backfills), gauges on /metrics;
//   - the hourly purge of audit entries and stage transitions older than pipeline.audit_retention;
//   - on shutdown the pipeline finishes the chunk it is deciding (its unit commits) and the
//     backfills stop after their page, before the writer drains the outbox.

#include <memory>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/unit_of_work.hpp"
#include "connector/config.hpp"
#include "pipeline/audit.hpp"
#include "pipeline/contact_states.hpp"
#include "pipeline/pipeline.hpp"
#include "rules/ruleset.hpp"
#include "webhooks/inbox.hpp"

namespace tandem::hubspot {
class Outbox;
}

namespace tandem::connector {

class Service;
class Connections;

class LeadPipeline {
 public:
  // Registers its jobs, details, gauges and drains on `service` and starts; register it after
  // Connections (its drain must run before the writer's). Everything given must outlive the
  // service's run().
  LeadPipeline(Service& service, const TandemConfig& config, rules::RulesetPtr rules, webhooks::Inbox& inbox,
               hubspot::Outbox& outbox, pipeline::ContactStates& states, pipeline::AuditLog& audit, UnitsOfWork& units,
               Connections& connections, MetricsRegistry& metrics, const Clock& clock);
  ~LeadPipeline();
  LeadPipeline(const LeadPipeline&) = delete;
  LeadPipeline& operator=(const LeadPipeline&) = delete;

  pipeline::Pipeline& pipeline();
  // Reads the rule files again (the job, SIGHUP); true when new rules replaced the running ones.
  bool reload_rules();
  [[nodiscard]] rules::RulesetPtr rules() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tandem::connector
