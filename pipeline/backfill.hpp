#pragma once
// The backfill: when an account connects, every contact it already has is evaluated once, so
// that Tandem is useful on day one and not only for contacts that change afterwards.
//
// Pages of 100 contacts are listed in id order with the properties the rules read (one request
// per page under the account's rate limit: the page is the read, so a page costs one request)
// and decided by the pipeline; each page's progress (HubSpot's paging cursor, contacts so far) is
// saved in the unit of work of its decisions, so that after a restart the backfill goes on after
// the last page whose decisions were recorded. A page that fails is tried again after a pause.
// Progress is in the log, on /metrics (tandem_backfill_contacts{portal}, tandem_backfill_running)
// and in `tandem accounts show`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "pipeline/contact_states.hpp"
#include "pipeline/pipeline.hpp"
#include "rules/ruleset_holder.hpp"

namespace tandem::pipeline {

struct BackfillConfig {
  std::chrono::milliseconds retry_pause{5'000};  // after a page failed
  int page_size = 100;
};

class Backfill {
 public:
  // Everything given must outlive it; use it from io's thread.
  Backfill(boost::asio::io_context& io, Pipeline& pipeline, ContactStates& states, UnitsOfWork& units,
           rules::RulesetHolder& rules, hubspot::HubSpotClient& client, MetricsRegistry& metrics, const Clock& clock,
           BackfillConfig config = {});
  ~Backfill();
  Backfill(const Backfill&) = delete;
  Backfill& operator=(const Backfill&) = delete;

  // Starts the backfill of `portal` unless one ran or runs already (io thread).
  void start(std::int64_t portal);
  // Goes on with every backfill a stopped process left unfinished (at start-up, io thread).
  void resume_unfinished();
  // Stops after the page in progress (io thread); `done` once every backfill has stopped.
  void stop(std::function<void()> done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::pipeline
