#pragma once
// Per-portal rate limits (contract §7): a rolling 10-second window for ordinary API calls
// (110 for OAuth apps) and a 1-second window for CRM search (5/s). Time comes from a Clock so
// tests step through windows without sleeping. Not thread-safe (SandboxServer serialises).

#include <cstdint>
#include <deque>
#include <map>

#include "common/clock.hpp"

namespace tandem::sandbox {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, int ten_secondly, int search_per_second)
      : clock_(clock), ten_secondly_(ten_secondly), search_per_second_(search_per_second) {}

  struct Decision {
    bool allowed;
    int limit;
    int remaining;  // after this request
  };
  // Counts the request when allowed.
  Decision check_general(std::int64_t portal_id) { return check(general_[portal_id], ten_secondly_, std::chrono::seconds(10)); }
  Decision check_search(std::int64_t portal_id) { return check(search_[portal_id], search_per_second_, std::chrono::seconds(1)); }
  void set_limits(int ten_secondly, int search_per_second) {
    ten_secondly_ = ten_secondly;
    search_per_second_ = search_per_second;
  }
  void reset() {
    general_.clear();
    search_.clear();
  }
  [[nodiscard]] int ten_secondly() const { return ten_secondly_; }
  [[nodiscard]] int search_per_second() const { return search_per_second_; }

 private:
  Decision check(std::deque<Clock::SteadyTime>& window, int limit, std::chrono::steady_clock::duration span) {
    auto now = clock_.steady_now();
    while (!window.empty() && now - window.front() >= span) window.pop_front();
    if (static_cast<int>(window.size()) >= limit) return {false, limit, 0};
    window.push_back(now);
    return {true, limit, limit - static_cast<int>(window.size())};
  }

  const Clock& clock_;
  int ten_secondly_;
  int search_per_second_;
  std::map<std::int64_t, std::deque<Clock::SteadyTime>> general_;
  std::map<std::int64_t, std::deque<Clock::SteadyTime>> search_;
};

}  // namespace tandem::sandbox
