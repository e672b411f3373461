#pragma once
// One rate limiter per HubSpot account, shared by everything that calls HubSpot for it
// (contract §7): a rolling window of `per_ten_seconds` requests (below HubSpot's 110 per 10 s for
// OAuth apps, with headroom) and a separate search budget (HubSpot: 5/s, no headers). It learns
// from X-HubSpot-RateLimit-Remaining / -Interval-Milliseconds, pauses an account after a 429 for
// the policy's window or until a DAILY reset, waits on timers (never spins), and keeps accounts
// independent: one account's queue never delays another's.
//
// RateWindow is the arithmetic (no timers, time passed in), tested with a manual clock;
// AccountRateLimiter puts it behind awaitable acquire() on one io_context.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "common/clock.hpp"
#include "hubspot/awaitable.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::hubspot {

struct RateLimits {
  int per_ten_seconds = 105;       // HubSpot: 110 per rolling 10 s per account (OAuth apps)
  int search_per_second = 4;       // HubSpot: 5 per second per account
  std::chrono::milliseconds window{10'000};
};

enum class Budget { kGeneral, kSearch };

// A rolling window of request start times: at most `limit` starts in any `span`.
class RateWindow {
 public:
  RateWindow(int limit, Clock::SteadyTime::duration span) : limit_(limit), span_(span) {}
  // When the next request may start (now when it may at once).
  [[nodiscard]] Clock::SteadyTime next_start(Clock::SteadyTime now);
  // Counts a request starting at `now` (call when next_start(now) <= now).
  void start(Clock::SteadyTime now);
  // HubSpot says `remaining` requests are left in its window of `interval` ending at `now`: never
  // believe we have more than that.
  void observe_remaining(Clock::SteadyTime now, int remaining, Clock::SteadyTime::duration interval);
  // Nothing starts before `until`.
  void pause_until(Clock::SteadyTime until);
  // The same, `wait` from now on the limiter's clock.
  void pause_for(std::int64_t portal, Budget budget, std::chrono::milliseconds wait);
  [[nodiscard]] Clock::SteadyTime paused_until() const { return paused_until_; }

 private:
  void expire(Clock::SteadyTime now);
  int limit_;
  Clock::SteadyTime::duration span_;
  std::deque<Clock::SteadyTime> starts_;
  Clock::SteadyTime paused_until_{};
};

class AccountRateLimiter {
 public:
  // io and clock must outlive the limiter. Not thread-safe: use it from the io_context's thread.
  AccountRateLimiter(boost::asio::io_context& io, const Clock& clock, RateLimits limits = {});
  ~AccountRateLimiter();
  AccountRateLimiter(const AccountRateLimiter&) = delete;
  AccountRateLimiter& operator=(const AccountRateLimiter&) = delete;

  // Completes with true when one more request of `budget` may start for `portal`, and counts it.
  // Waiters of one account and budget are served in order. False once close() was called: the
  // request must not be sent.
  Awaitable<bool> acquire(std::int64_t portal, Budget budget);
  // Shutdown: every waiter, and every later acquire(), completes with false at once (a request
  // waiting out a DAILY pause must not hold up a stop until midnight).
  void close();
  // After a response: X-HubSpot-RateLimit-Remaining and -Interval-Milliseconds.
  void observe(std::int64_t portal, int remaining, std::chrono::milliseconds interval);
  // After a 429 or a DAILY limit: the account's `budget` (or both, for DAILY) waits until `until`.
  void pause(std::int64_t portal, Budget budget, Clock::SteadyTime until);
  // The same, `wait` from now on the limiter's clock.
  void pause_for(std::int64_t portal, Budget budget, std::chrono::milliseconds wait);
  [[nodiscard]] Clock::SteadyTime paused_until(std::int64_t portal, Budget budget) const;
  [[nodiscard]] const RateLimits& limits() const { return limits_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  RateLimits limits_;
};

}  // namespace tandem::hubspot
