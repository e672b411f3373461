#pragma once
// Fault injection per route, changeable at run time through /_sandbox/faults: added latency,
// random 5xx errors, bursts of 429 and connection resets before or after a write is applied.

#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/config.hpp"

namespace tandem::sandbox {

struct FaultDecision {
  int latency_ms = 0;
  std::optional<int> error_status;  // answer this status instead of running the route
  bool rate_limited = false;        // answer 429 (burst)
  std::string rate_limit_policy;    // the rule's burst429Policy when rate_limited
  int retry_after_s = 0;            // > 0: add Retry-After to the 429
  bool reset_before = false;        // close the connection without applying the request
  bool reset_after = false;         // apply the request, then close without answering
};

class FaultInjector {
 public:
  explicit FaultInjector(std::uint64_t seed) : rng_(seed) {}
  void set_rules(std::vector<FaultRuleConfig> rules) { rules_ = std::move(rules); }
  [[nodiscard]] const std::vector<FaultRuleConfig>& rules() const { return rules_; }
  // Every matching rule contributes; latencies add up. `portal` is the account of the request's
  // bearer token (0 when it has none or an unknown one); rules scoped to a portal match only it.
  FaultDecision decide(std::string_view method, std::string_view path, std::int64_t portal = 0);

  [[nodiscard]] nlohmann::json to_json() const;
  // Parses the /_sandbox/faults body ({"rules":[...]} with the config's camelCase keys).
  static std::optional<std::vector<FaultRuleConfig>> parse(const nlohmann::json& body, std::string& error);

 private:
  std::vector<FaultRuleConfig> rules_;
  std::mt19937_64 rng_;
};

// '*' matches any run of characters (including '/').
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace tandem::sandbox
