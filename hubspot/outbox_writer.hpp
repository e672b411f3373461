#pragma once
// Drains the outbox into HubSpot: per account, batches of up to 100 items of one lane (one object
// type and operation per request), under the account's rate limiter, with the retry policy of
// retry_policy.hpp, and without ever creating a task twice.
//
// - Contact updates and lifecycle steps are idempotent: a failure is retried as it is. A 207
//   dead-letters the inputs HubSpot refused and writes the rest. A whole batch refused with a 4xx
//   is split in halves until the refused inputs are alone, so one bad input never holds up the
//   others.
// - A task creation whose outcome is unknown (the connection broke after the request was
//   written, a timeout, a 5xx, a success whose body could not be read, or the process stopped
//   while it was in flight) is looked up before it is sent again: after a settle delay (HubSpot
//   may still be applying it), the contact's task associations are read directly (consistent,
//   unlike search, which lags writes) and those tasks' bodies are searched for the marker
//   task_marker(key) that every task body ends with. Found: the HubSpot id is recorded. Absent:
//   it is sent again.
// - A DAILY 429 pauses the account (both budgets) until midnight in the account's time zone;
//   other accounts keep writing. Each account has its own workers.
// - An account without a usable token (needs re-authorisation, not connected) pauses, its items
//   kept and never counted towards giving up, until resume() or, every 15 s, a look whether the
//   tokens came back (installed by another process).
//
// Threads: the writer runs its coroutines on `io` (the HTTP client's io_context); every outbox
// call (SQLite, blocking) runs on a thread of its own pool.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "hubspot/client.hpp"
#include "hubspot/outbox.hpp"
#include "hubspot/rate_limiter.hpp"
#include "hubspot/retry_policy.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::hubspot {

struct WriterConfig {
  std::size_t batch_max = 100;  // HubSpot's batch limit (contract §4)
  // Requests in flight per account. More than one keeps the account's budget busy while a slow
  // answer (HubSpot's batch calls take hundreds of ms, spikes of seconds) is awaited.
  int requests_per_account = 4;
  // How long after a create was sent before its outcome is looked up: a request HubSpot has
  // received may still be applied after the client gave up on it. Above the client's timeout.
  std::chrono::milliseconds settle{35'000};
  // Sends after which an item that keeps failing (5xx, timeouts) is dead-lettered. 4xx refusals
  // are dead at once.
  int max_attempts = 40;
  // How often an idle account checks the outbox for new items when nobody calls wake().
  std::chrono::milliseconds idle_poll{1'000};
  RetryConfig retry;
  std::uint64_t random_seed = 0;  // 0: from the system
};

class OutboxWriter {
 public:
  // Everything given must outlive the writer.
  OutboxWriter(boost::asio::io_context& io, Outbox& outbox, HubSpotClient& client, AccountRateLimiter& limiter,
               MetricsRegistry& metrics, const Clock& clock, WriterConfig config = {});
  ~OutboxWriter();
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;

  // Gives back what a stopped process left in flight, then drains every account with pending
  // items, and accounts added later by wake(). Call once, before the io_context runs or on its
  // thread.
  void start();
  // New items were recorded for `portal`: drain them now rather than at the next poll.
  // Thread-safe.
  void wake(std::int64_t portal);
  // `portal` has usable tokens again (a new install): ends a pause for want of authorisation and
  // drains its items now. Thread-safe.
  void resume(std::int64_t portal);
  // Stops taking items and closes the rate limiter (requests waiting for it are not sent);
  // requests in flight finish and are recorded; `done` runs on the io thread
  // once every worker has ended. Thread-safe.
  void stop(std::function<void()> done = {});

  // Items written, retried, looked up..., for tests and the bench.
  struct Counts {
    std::uint64_t written = 0;
    std::uint64_t retried = 0;
    std::uint64_t dead = 0;
    std::uint64_t lookups = 0;       // unknown creates looked up
    std::uint64_t found_on_lookup = 0;
    std::uint64_t requests = 0;
  };
  [[nodiscard]] Counts counts() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::hubspot
