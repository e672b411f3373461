// RateWindow arithmetic and the retry policy: pure functions, time passed in.

#include <catch2/catch.hpp>

#include "hubspot/rate_limiter.hpp"
#include "hubspot/retry_policy.hpp"

using namespace tandem;
using namespace tandem::hubspot;
using namespace std::chrono_literals;

namespace {
Clock::SteadyTime at(std::chrono::milliseconds ms) { return Clock::SteadyTime{ms}; }
}  // namespace

TEST_CASE("RateWindow lets limit starts through then waits for the oldest to leave the span") {
  RateWindow w(3, 10s);
  for (auto t : {0ms, 100ms, 200ms}) {
    REQUIRE(w.next_start(at(t)) == at(t));
    w.start(at(t));
  }
  CHECK(w.next_start(at(300ms)) == at(10'000ms));
  w.start(at(10'000ms));
  CHECK(w.next_start(at(10'000ms)) == at(10'100ms));
}

TEST_CASE("RateWindow believes HubSpot when it says fewer requests remain") {
  RateWindow w(100, 10s);
  w.start(at(0ms));
  w.observe_remaining(at(1'000ms), 0, 10s);
  CHECK(w.next_start(at(1'000ms)) > at(1'000ms));
  // Our own start at 0 leaves HubSpot's window first; the slots HubSpot said were gone, a span
  // after it said so.
  CHECK(w.next_start(at(1'000ms)) == at(10'000ms));
  w.start(at(10'000ms));
  CHECK(w.next_start(at(10'000ms)) == at(11'000ms));
  RateWindow more(5, 10s);
  more.observe_remaining(at(0ms), 50, 10s);  // more than we allow ourselves: ignored
  CHECK(more.next_start(at(0ms)) == at(0ms));
}

TEST_CASE("RateWindow pause holds every start until the pause ends") {
  RateWindow w(10, 10s);
  w.pause_until(at(5'000ms));
  CHECK(w.next_start(at(0ms)) == at(5'000ms));
  CHECK(w.next_start(at(6'000ms)) == at(6'000ms));
  w.pause_until(at(1'000ms));  // an earlier pause never shortens a later one
  CHECK(w.paused_until() == at(5'000ms));
}

namespace {
ApiError http_error(int status, std::string policy = {}) {
  ApiError e;
  e.kind = ApiError::Kind::kHttp;
  e.status = status;
  e.body.policy_name = std::move(policy);
  return e;
}
}  // namespace

TEST_CASE("decide_retry maps each error class to its decision") {
  std::mt19937_64 rng(7);
  const std::int64_t now = 1'700'000'000'000;
  using K = RetryDecision::Kind;
  CHECK(decide_retry(http_error(500), 0, now, "", rng).kind == K::kRetry);
  CHECK(decide_retry(http_error(503), 3, now, "", rng).kind == K::kRetry);
  CHECK(decide_retry(http_error(400), 0, now, "", rng).kind == K::kDead);
  CHECK(decide_retry(http_error(404), 0, now, "", rng).kind == K::kDead);
  CHECK(decide_retry(http_error(409), 0, now, "", rng).kind == K::kRetry);
  CHECK(decide_retry(http_error(401), 0, now, "", rng).kind == K::kRetry);
  auto locked = decide_retry(http_error(423), 0, now, "", rng);
  CHECK(locked.kind == K::kRetry);
  CHECK(locked.delay >= 2s);
  auto ten = decide_retry(http_error(429, "TEN_SECONDLY_ROLLING"), 0, now, "", rng);
  CHECK(ten.kind == K::kRateLimited);
  CHECK(ten.delay == 10s);
  CHECK(decide_retry(http_error(429, "SECONDLY"), 0, now, "", rng).delay == 1s);
  auto with_header = http_error(429, "TEN_SECONDLY_ROLLING");
  with_header.retry_after = 3s;
  CHECK(decide_retry(with_header, 0, now, "", rng).delay == 3s);
  auto daily = decide_retry(http_error(429, "DAILY"), 0, now, "America/New_York", rng);
  CHECK(daily.kind == K::kPauseAccount);
  CHECK(daily.until == next_midnight(now, "America/New_York"));
  ApiError transport;
  transport.kind = ApiError::Kind::kTransport;
  CHECK(decide_retry(transport, 0, now, "", rng).kind == K::kRetry);
  ApiError bad;
  bad.kind = ApiError::Kind::kBadBody;
  CHECK(decide_retry(bad, 0, now, "", rng).kind == K::kRetry);
  ApiError token;
  token.kind = ApiError::Kind::kToken;
  token.token = TokenError{TokenError::Kind::kNeedsReauthorisation, "revoked"};
  // Not dead: the account's writes pause for a new install (the outbox is kept), whatever the attempts.
  auto waiting = decide_retry(token, 39, now, "", rng);
  CHECK(waiting.kind == K::kAwaitAuthorisation);
  CHECK(waiting.delay >= std::chrono::seconds(5));
  token.token = TokenError{TokenError::Kind::kUnknownAccount, "not connected"};
  CHECK(decide_retry(token, 0, now, "", rng).kind == K::kAwaitAuthorisation);
  // A refresh that failed for now (the token endpoint down) is retried like any transient failure.
  token.token = TokenError{TokenError::Kind::kUnavailable, "backing off"};
  auto later = decide_retry(token, 0, now, "", rng);
  CHECK(later.kind == K::kRetry);
  CHECK(later.delay >= std::chrono::seconds(5));
}

TEST_CASE("decide_retry backs off with full jitter inside [0, min(cap, base * 2^attempt)]") {
  std::mt19937_64 rng(1);
  RetryConfig config{500ms, 60s};
  for (int attempt = 0; attempt < 40; ++attempt) {
    const auto ceiling = std::min<std::int64_t>(60'000, attempt > 20 ? 60'000 : 500LL << attempt);
    std::chrono::milliseconds lo{1'000'000}, hi{0};
    for (int i = 0; i < 200; ++i) {
      auto d = decide_retry(http_error(502), attempt, 0, "", rng, config).delay;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    CHECK(lo.count() >= 0);
    CHECK(hi.count() <= ceiling);
    CHECK(hi.count() > ceiling / 2);  // the whole range is used, not just its bottom
  }
}

TEST_CASE("next_midnight in America/New_York on both sides of a DST change") {
  // 2026-03-08 02:00 EST -> EDT. Noon 2026-03-07 EST (17:00Z): next midnight 2026-03-08 00:00 EST = 05:00Z.
  CHECK(next_midnight(1'772'902'800'000, "America/New_York") == 1'772'946'000'000);
  // Noon 2026-03-08 EDT (16:00Z): next midnight 2026-03-09 00:00 EDT = 04:00Z (a 23-hour day before).
  CHECK(next_midnight(1'772'985'600'000, "America/New_York") == 1'773'028'800'000);
  // 2026-11-01 02:00 EDT -> EST. Noon 2026-11-01 EST (17:00Z): next midnight 2026-11-02 00:00 EST = 05:00Z.
  CHECK(next_midnight(1'793'552'400'000, "America/New_York") == 1'793'595'600'000);
}

TEST_CASE("next_midnight counts an unknown or empty zone as UTC") {
  const std::int64_t noon = 1'772'971'200'000;  // 2026-03-08T12:00:00Z
  CHECK(next_midnight(noon, "") == 1'773'014'400'000);
  CHECK(next_midnight(noon, "Not/AZone") == 1'773'014'400'000);
  CHECK(next_midnight(1'773'014'400'000, "UTC") == 1'773'100'800'000);  // at midnight: the next one
}
