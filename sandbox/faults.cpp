#include "sandbox/faults.hpp"

#include <algorithm>

#include "common/http.hpp"

namespace tandem::sandbox {

bool glob_match(std::string_view p, std::string_view t) {
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

FaultDecision FaultInjector::decide(std::string_view method, std::string_view path, std::int64_t portal) {
  FaultDecision d;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (auto& r : rules_) {
    if (!r.method.empty() && !http::iequals(r.method, method)) continue;
    if (!r.path.empty() && !glob_match(r.path, path)) continue;
    if (r.portal != 0 && r.portal != portal) continue;
    d.latency_ms += r.latency_ms;
    if (r.burst_429 > 0 && !d.rate_limited) {
      --r.burst_429;
      d.rate_limited = true;
      d.rate_limit_policy = r.burst_429_policy;
      d.retry_after_s = r.retry_after_s;
    }
    if (r.error_rate > 0 && !r.error_statuses.empty() && u(rng_) < r.error_rate && !d.error_status) {
      std::uniform_int_distribution<std::size_t> pick(0, r.error_statuses.size() - 1);
      d.error_status = r.error_statuses[pick(rng_)];
    }
    if (r.reset_rate > 0 && u(rng_) < r.reset_rate) {
      if (r.reset_when == "after") d.reset_after = true;
      else d.reset_before = true;
    }
  }
  return d;
}

nlohmann::json FaultInjector::to_json() const {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : rules_)
    rules.push_back({{"method", r.method}, {"path", r.path}, {"latencyMs", r.latency_ms}, {"errorRate", r.error_rate},
                     {"errorStatuses", r.error_statuses}, {"burst429", r.burst_429}, {"burst429Policy", r.burst_429_policy},
                     {"retryAfterS", r.retry_after_s}, {"portal", r.portal}, {"resetRate", r.reset_rate},
                     {"resetWhen", r.reset_when}});
  return {{"rules", rules}};
}

std::optional<std::vector<FaultRuleConfig>> FaultInjector::parse(const nlohmann::json& body, std::string& error) {
  static const std::vector<std::string> kKeys = {"method", "path", "latencyMs", "errorRate", "errorStatuses",
                                                 "burst429", "burst429Policy", "retryAfterS", "portal",
                                                 "resetRate", "resetWhen"};
  std::vector<FaultRuleConfig> out;
  try {
    if (!body.is_object() || !body.contains("rules") || !body.at("rules").is_array()) {
      error = "expected {\"rules\": [...]}";
      return std::nullopt;
    }
    for (const auto& j : body.at("rules")) {
      for (const auto& [k, v] : j.items()) {
        if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end()) {
          error = "unknown fault key '" + k + "'";
          return std::nullopt;
        }
      }
      FaultRuleConfig r;
      r.method = j.value("method", "");
      r.path = j.value("path", "");
      r.latency_ms = j.value("latencyMs", 0);
      r.error_rate = j.value("errorRate", 0.0);
      r.error_statuses = j.value("errorStatuses", std::vector<int>{500, 502, 503});
      r.burst_429 = j.value("burst429", 0);
      r.burst_429_policy = j.value("burst429Policy", std::string("TEN_SECONDLY_ROLLING"));
      r.retry_after_s = j.value("retryAfterS", 0);
      r.portal = j.value("portal", std::int64_t{0});
      if (r.burst_429_policy != "TEN_SECONDLY_ROLLING" && r.burst_429_policy != "SECONDLY" && r.burst_429_policy != "DAILY") {
        error = "burst429Policy must be TEN_SECONDLY_ROLLING, SECONDLY or DAILY";
        return std::nullopt;
      }
      if (r.retry_after_s < 0 || r.portal < 0) {
        error = "retryAfterS and portal must be >= 0";
        return std::nullopt;
      }
      r.reset_rate = j.value("resetRate", 0.0);
      r.reset_when = j.value("resetWhen", "before");
      if (r.reset_when != "before" && r.reset_when != "after") {
        error = "resetWhen must be 'before' or 'after'";
        return std::nullopt;
      }
      if (r.error_rate < 0 || r.error_rate > 1 || r.reset_rate < 0 || r.reset_rate > 1 || r.latency_ms < 0) {
        error = "rates must be within [0,1] and latencyMs >= 0";
        return std::nullopt;
      }
      out.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  return out;
}

}  // namespace tandem::sandbox
