#pragma once
// The lead pipeline: what turns HubSpot changes into hand-offs, returns and follow-ups.
//
// One loop on the service's io_context:
//   1. claim events from the inbox (a lease), and contacts whose timer is due (a lease too);
//   2. coalesce them per contact (ten changes of one contact are one decision);
//   3. per account, in chunks of at most 100 contacts: read what is pending for them in the
//      outbox, read the properties the rules need in ONE batch read (the account's rate limiter
//      applies), load Tandem's state for them;
//   4. evaluate the rules over HubSpot's values with the pending writes laid over them (so that a
//      decision whose writes are on their way is not taken again) and plan (planner.hpp);
//   5. in ONE unit of work: record the intents, save the states and timers, record the stage
//      transitions and audit entries, acknowledge the events. Either all of it exists or none.
// Processing an event twice, a duplicate or late webhook, or a timer fired again after a crash
// records nothing new: every intent's key names what was decided. Own echoes never reach it (the
// inbox skips them). Decisions read HubSpot's current values, never an event's, so events out of
// order cannot move a contact back.
//
// A contact that cannot be read (the account needs re-authorisation, a 429, HubSpot down) leaves
// its events to be claimed again later; one that no longer exists has its events acknowledged
// and its timer cleared.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/unit_of_work.hpp"
#include "hubspot/awaitable.hpp"
#include "hubspot/types.hpp"
#include "pipeline/audit.hpp"
#include "pipeline/contact_states.hpp"
#include "pipeline/planner.hpp"
#include "rules/ruleset_holder.hpp"
#include "webhooks/inbox.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::hubspot {
class HubSpotClient;
class Outbox;
}  // namespace tandem::hubspot

namespace tandem::pipeline {

struct PipelineConfig {
  std::size_t claim_batch = 200;               // events per claim
  std::chrono::milliseconds lease{60'000};     // of claimed events and timers
  std::chrono::milliseconds idle_poll{100};    // when neither events nor timers are due
  std::chrono::milliseconds retry_after{10'000};  // events whose contact could not be read
  std::size_t read_batch = 100;                // contacts per batch read (HubSpot's maximum)
  std::string consumer = "pipeline";
  // Tandem's own HubSpot app id: changes it made itself are not transitions made by others.
  std::string own_app_id;
};

// One contact to decide about, and why (backfill, merge, tests).
struct ContactWork {
  std::string contact_id;
  Trigger trigger;
};

struct PipelineCounts {
  std::uint64_t events = 0;     // acknowledged
  std::uint64_t decisions = 0;  // contacts evaluated
  std::uint64_t acted = 0;      // decisions that recorded a write or a task
  std::uint64_t timers = 0;     // timers handled
  std::uint64_t deferred = 0;   // events given back because their contact could not be read
};

class Pipeline {
 public:
  // Everything given must outlive the pipeline; use it from io's thread. `on_recorded(portal)` is
  // called (on io's thread) after a unit recorded intents for the account: the writer's wake().
  Pipeline(boost::asio::io_context& io, webhooks::Inbox& inbox, hubspot::Outbox& outbox, ContactStates& states,
           AuditLog& audit, UnitsOfWork& units, rules::RulesetHolder& rules, hubspot::HubSpotClient& client,
           MetricsRegistry& metrics, const Clock& clock, PipelineConfig config,
           std::function<void(std::int64_t)> on_recorded = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // The account's time zone (an IANA name, empty when unknown): deadlines of rules that name no
  // time_zone are counted in it. Set before start(); called from io's thread.
  void set_account_time_zones(std::function<std::string(std::int64_t portal)> lookup);
  // Starts the loop. Call once, from io's thread or before io runs.
  void start();
  // The loop finishes the chunk it is deciding (its unit commits or not), then ends; `done` is
  // called on io's thread once it has. Thread-safe.
  void stop(std::function<void()> done = {});
  // Wakes the loop now (new events in the inbox).
  void wake();

  // Decides about these contacts of `portal` now, outside the inbox (backfill, merges): the
  // same reading, evaluation, planning and unit of work. Returns how many contacts were decided
  // (those that no longer exist are not), or -1 when they could not be read or recorded (retry).
  hubspot::Awaitable<long> decide(std::int64_t portal, std::vector<ContactWork> contacts);
  // The same for contacts already read (a page of the backfill: no second read), with `extra`
  // run inside the decisions' unit of work (the backfill's progress); false from it rolls back.
  hubspot::Awaitable<long> decide_read(std::int64_t portal, std::vector<hubspot::CrmObject> contacts, Trigger trigger,
                                       std::function<bool(UnitOfWork&)> extra);

  [[nodiscard]] PipelineCounts counts() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::pipeline
