#include "hubspot/rate_limiter.hpp"

#include <algorithm>
#include <list>
#include <map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

namespace tandem::hubspot {

namespace net = boost::asio;

void RateWindow::expire(Clock::SteadyTime now) {
  while (!starts_.empty() && now - starts_.front() >= span_) starts_.pop_front();
}

Clock::SteadyTime RateWindow::next_start(Clock::SteadyTime now) {
  expire(now);
  Clock::SteadyTime at = now;
  if (static_cast<int>(starts_.size()) >= limit_) at = starts_[starts_.size() - limit_] + span_;
  return std::max(at, paused_until_);
}

void RateWindow::start(Clock::SteadyTime now) {
  expire(now);
  starts_.push_back(now);
}

void RateWindow::observe_remaining(Clock::SteadyTime now, int remaining, Clock::SteadyTime::duration interval) {
  expire(now);
  // HubSpot counts `limit_ - remaining`-ish requests in its window; when it has fewer left than we
  // think, requests we do not know of (another process of this app, a replica) used them. Add
  // phantom starts at `now` until our count agrees, so that the window frees them as HubSpot's
  // does (at worst `interval` from now).
  (void)interval;
  int ours_left = limit_ - static_cast<int>(starts_.size());
  for (int i = 0; i < ours_left - std::max(0, remaining); ++i) starts_.push_back(now);
}

void RateWindow::pause_until(Clock::SteadyTime until) { paused_until_ = std::max(paused_until_, until); }

struct AccountRateLimiter::State {
  State(net::io_context& io, const Clock& clock, const RateLimits& limits) : io(io), clock(clock), limits(limits) {}
  struct Lane {
    explicit Lane(RateWindow w) : window(std::move(w)) {}
    RateWindow window;
    // Waiters in order; the first one owns the timer.
    std::list<net::steady_timer*> waiters;
  };
  net::io_context& io;
  const Clock& clock;
  RateLimits limits;
  std::map<std::pair<std::int64_t, Budget>, Lane> lanes;
  bool closed = false;

  Lane& lane(std::int64_t portal, Budget budget) {
    auto key = std::make_pair(portal, budget);
    auto it = lanes.find(key);
    if (it == lanes.end()) {
      RateWindow w = budget == Budget::kGeneral ? RateWindow(limits.per_ten_seconds, limits.window)
                                                : RateWindow(limits.search_per_second, std::chrono::seconds(1));
      it = lanes.emplace(key, Lane(std::move(w))).first;
    }
    return it->second;
  }
};

AccountRateLimiter::AccountRateLimiter(net::io_context& io, const Clock& clock, RateLimits limits)
    : state_(std::make_unique<State>(io, clock, limits)), limits_(limits) {}

AccountRateLimiter::~AccountRateLimiter() = default;

Awaitable<bool> AccountRateLimiter::acquire(std::int64_t portal, Budget budget) {
  State& s = *state_;
  if (s.closed) co_return false;
  State::Lane& lane = s.lane(portal, budget);
  net::steady_timer timer(s.io);
  lane.waiters.push_back(&timer);
  auto me = std::prev(lane.waiters.end());
  for (;;) {
    if (s.closed) {
      lane.waiters.erase(me);
      if (!lane.waiters.empty()) lane.waiters.front()->cancel();
      co_return false;
    }
    if (lane.waiters.front() == &timer) {
      auto now = s.clock.steady_now();
      auto at = lane.window.next_start(now);
      if (at <= now) break;
      // The clock may be a test's: wait in steady time for the difference.
      timer.expires_after(at - now);
    } else {
      // Wait until the one before us is served (it cancels our timer when it leaves).
      timer.expires_at(net::steady_timer::time_point::max());
    }
    co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  }
  lane.window.start(s.clock.steady_now());
  lane.waiters.erase(me);
  if (!lane.waiters.empty()) lane.waiters.front()->cancel();
  co_return true;
}

void AccountRateLimiter::close() {
  state_->closed = true;
  for (auto& [key, lane] : state_->lanes)
    for (auto* t : lane.waiters) t->cancel();
}

void AccountRateLimiter::observe(std::int64_t portal, int remaining, std::chrono::milliseconds interval) {
  state_->lane(portal, Budget::kGeneral).window.observe_remaining(state_->clock.steady_now(), remaining, interval);
}

void AccountRateLimiter::pause(std::int64_t portal, Budget budget, Clock::SteadyTime until) {
  auto& lane = state_->lane(portal, budget);
  lane.window.pause_until(until);
  // The first waiter recomputes its wait.
  if (!lane.waiters.empty()) lane.waiters.front()->cancel();
}

void AccountRateLimiter::pause_for(std::int64_t portal, Budget budget, std::chrono::milliseconds wait) {
  pause(portal, budget, state_->clock.steady_now() + wait);
}

Clock::SteadyTime AccountRateLimiter::paused_until(std::int64_t portal, Budget budget) const {
  return state_->lane(portal, budget).window.paused_until();
}

}  // namespace tandem::hubspot
