#include "hubspot/retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include <date/tz.h>

namespace tandem::hubspot {

using namespace std::chrono_literals;

std::int64_t next_midnight(std::int64_t now_ms, std::string_view time_zone) {
  using namespace std::chrono;
  sys_time<milliseconds> now{milliseconds{now_ms}};
  const date::time_zone* zone = nullptr;
  if (!time_zone.empty()) {
    try {
      zone = date::locate_zone(std::string(time_zone));
    } catch (const std::exception&) {
      zone = nullptr;  // unknown zone: UTC
    }
  }
  if (!zone) {
    auto day = floor<date::days>(now);
    return duration_cast<milliseconds>((day + date::days{1}).time_since_epoch()).count();
  }
  auto local = zone->to_local(now);
  auto next_day = floor<date::days>(local) + date::days{1};
  // Midnight can be skipped by a DST change in a few zones; choose the earliest instant of the
  // new local day then.
  auto info = zone->get_info(next_day);
  sys_time<milliseconds> at;
  if (info.result == date::local_info::nonexistent)
    at = time_point_cast<milliseconds>(info.first.end);
  else
    at = time_point_cast<milliseconds>(zone->to_sys(next_day, date::choose::earliest));
  return at.time_since_epoch().count();
}

namespace {

std::chrono::milliseconds full_jitter(int attempt, std::mt19937_64& rng, const RetryConfig& config) {
  double ceiling = static_cast<double>(config.base.count()) * std::pow(2.0, std::min(attempt, 30));
  ceiling = std::min(ceiling, static_cast<double>(config.cap.count()));
  std::uniform_real_distribution<double> pick(0.0, std::max(ceiling, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(pick(rng)));
}

}  // namespace

RetryDecision decide_retry(const ApiError& error, int attempt, std::int64_t now_ms, std::string_view time_zone,
                           std::mt19937_64& rng, const RetryConfig& config) {
  using Kind = RetryDecision::Kind;
  auto backoff = [&] { return RetryDecision{Kind::kRetry, full_jitter(attempt, rng, config), 0}; };
  switch (error.kind) {
    case ApiError::Kind::kTransport:
    case ApiError::Kind::kBadBody:
    case ApiError::Kind::kCancelled:
      return backoff();
    case ApiError::Kind::kToken:
      if (error.token && (error.token->kind == TokenError::Kind::kNeedsReauthorisation ||
                          error.token->kind == TokenError::Kind::kUnknownAccount))
        return RetryDecision{Kind::kAwaitAuthorisation, 15s, 0};
      // No token now (refresh failing, account awaiting re-authorisation): try later, slowly.
      return RetryDecision{Kind::kRetry, std::max<std::chrono::milliseconds>(full_jitter(attempt, rng, config), 5s), 0};
    case ApiError::Kind::kHttp:
      break;
  }
  const int status = error.status;
  if (status == 429) {
    const std::string& policy = error.body.policy_name;
    if (policy == "DAILY") return RetryDecision{Kind::kPauseAccount, 0ms, next_midnight(now_ms, time_zone)};
    if (error.retry_after) return RetryDecision{Kind::kRateLimited, *error.retry_after, 0};
    bool secondly = policy == "SECONDLY" || error.body.message == "You have reached your secondly limit.";
    return RetryDecision{Kind::kRateLimited, secondly ? 1000ms : 10'000ms, 0};
  }
  if (status == 423) {
    // Locked for a high-volume sync; locks last 2 s (contract §8).
    return RetryDecision{Kind::kRetry, std::max<std::chrono::milliseconds>(2s, error.retry_after.value_or(0ms)), 0};
  }
  if (status == 477) {
    // Migration in progress: Retry-After, typically up to 24 hours (contract §8).
    return RetryDecision{Kind::kRetry, std::max<std::chrono::milliseconds>(error.retry_after.value_or(60s), 1s), 0};
  }
  if (status >= 500 || status == 401 || status == 409) {
    auto d = backoff();
    if (error.retry_after) d.delay = std::max(d.delay, *error.retry_after);
    return d;
  }
  if (status >= 400) return RetryDecision{Kind::kDead, 0ms, 0};
  return backoff();  // a status the call did not expect (1xx, 3xx): try again later
}

}  // namespace tandem::hubspot
