#pragma once
// What to do after a failed call (contract §7 and §8, the policy):
//   - 5xx, timeouts, resets, a body cut short or not JSON: retry with exponential backoff and full
//     jitter (delay uniform in [0, min(cap, base * 2^attempt)]);
//   - 423 Locked: wait at least 2 s (HubSpot's locks last 2 s);
//   - 429 TEN_SECONDLY_ROLLING: the 10 s window; SECONDLY: 1 s; Retry-After wins when present;
//     DAILY: pause the account until midnight in the account's time zone;
//   - 401 after the client's one refresh, 409: retry with backoff;
//   - no token because the account needs re-authorisation or is not connected: pause the account
//     (its items are kept and never count towards giving up) until a new install resumes it;
//   - any other 4xx: not retried, dead-lettered with HubSpot's body and correlationId.
// Pure functions: time and randomness are passed in.

#include <chrono>
#include <cstdint>
#include <random>
#include <string_view>

#include "hubspot/client.hpp"

namespace tandem::hubspot {

struct RetryConfig {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{60'000};
};

struct RetryDecision {
  enum class Kind {
    kRetry,         // send again after `delay` (this item only)
    kRateLimited,   // the account's budget waits `delay`; send again after it
    kPauseAccount,  // DAILY: nothing of this account is sent before `until` (epoch ms)
    kAwaitAuthorisation,  // no usable token until an admin installs again: pause, look again after `delay`
    kDead,          // never again
  };
  Kind kind = Kind::kRetry;
  std::chrono::milliseconds delay{0};
  std::int64_t until = 0;
};

// `attempt` counts sends before this one (0 for the first). `now_ms` is wall time, `time_zone`
// the account's IANA zone (for DAILY; UTC when empty or unknown).
RetryDecision decide_retry(const ApiError& error, int attempt, std::int64_t now_ms, std::string_view time_zone,
                           std::mt19937_64& rng, const RetryConfig& config = {});

// Midnight after `now_ms` in `time_zone` (IANA, from the system tz database), as epoch ms.
// Unknown zones count as UTC.
std::int64_t next_midnight(std::int64_t now_ms, std::string_view time_zone);

}  // namespace tandem::hubspot
