#pragma once
// The sandbox configuration (examples/sandbox.yaml documents every key). Read strictly with the
// common walker (common/config.hpp): an unknown key is an error naming its path, with a
// did-you-mean suggestion; booleans are `true` or `false`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/diagnostics.hpp"

namespace tandem::sandbox {

struct TeamConfig {
  std::string id;
  std::string name;
};

struct OwnerConfig {
  std::string id;
  std::string email;
  std::string first_name;
  std::string last_name;
  std::int64_t user_id = 0;
  std::string type = "PERSON";
  bool archived = false;
  std::vector<std::string> team_ids;  // the first is the primary team
};

struct CustomPropertyConfig {
  std::string object_type = "contacts";  // contacts | tasks
  std::string name;
  std::string label;
  std::string type = "string";  // string | number | datetime | date | bool | enumeration
  std::vector<std::string> options;
};

struct PortalConfig {
  std::int64_t id = 0;
  std::string domain;
  std::string time_zone = "UTC";
  std::vector<TeamConfig> teams;
  std::vector<OwnerConfig> owners;
  std::vector<CustomPropertyConfig> properties;
};

struct SubscriptionConfig {
  std::int64_t id = 0;
  // contact.creation | contact.propertyChange | contact.deletion | object.creation |
  // object.propertyChange | object.deletion | contact.merge | object.merge (objectType contact)
  std::string subscription_type;
  std::string property_name;  // propertyChange only
  bool active = true;
};

struct AppConfig {
  std::int64_t id = 0;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> redirect_urls;
  std::vector<std::string> required_scopes;
  std::vector<std::string> optional_scopes;
  std::string webhook_target_url;
  int max_concurrent_requests = 10;
  std::vector<SubscriptionConfig> subscriptions;
};

struct OAuthConfig {
  std::int64_t access_token_ttl_s = 1800;
  std::int64_t code_ttl_s = 600;
  std::int64_t user_id = 1;
  std::string user_email = "admin@sandbox.example.com";
};

struct LimitsConfig {
  int ten_secondly = 110;      // requests per rolling 10 s per portal (OAuth app)
  int search_per_second = 5;   // search requests per second per portal
  int batch_max = 100;
  int search_max_limit = 200;
  int search_result_cap = 10'000;
  std::size_t search_max_body = 3000;
  // Milliseconds before a create or update is visible to CRM search (HubSpot: "a few moments",
  // contract §4.2). 0 = immediately; examples/sandbox.yaml ships 2000.
  int search_index_delay_ms = 0;
};

struct DeliveryConfig {
  int timeout_ms = 5000;
  int max_retries = 10;
  // Multiplies every retry delay of HubSpot's ~24 h schedule (1.0 = real time).
  double time_factor = 1.0;
  double duplicate_probability = 0.0;
  double out_of_order_probability = 0.0;
  int max_events_per_request = 100;
};

struct FaultRuleConfig {
  std::string method;  // empty = any
  std::string path;    // glob with '*'; empty = any
  int latency_ms = 0;
  double error_rate = 0.0;
  std::vector<int> error_statuses{500, 502, 503};
  int burst_429 = 0;           // the next N matching requests get 429
  // Which HubSpot limit the burst's 429 says was hit (contract §7): TEN_SECONDLY_ROLLING | SECONDLY |
  // DAILY. Clients treat them differently: DAILY is not worth retrying until the daily reset.
  std::string burst_429_policy = "TEN_SECONDLY_ROLLING";
  int retry_after_s = 0;       // > 0: the 429 carries Retry-After: <s> (HubSpot's use of it is UNCONFIRMED, §7)
  std::int64_t portal = 0;     // 0 = any account; else only requests whose token belongs to this portal
  double reset_rate = 0.0;     // probability of a connection reset
  std::string reset_when = "before";  // before | after (the write was applied)
};

struct SandboxConfig {
  std::vector<PortalConfig> portals;
  AppConfig app;
  OAuthConfig oauth;
  LimitsConfig limits;
  DeliveryConfig delivery;
  std::vector<FaultRuleConfig> faults;
  // ignore (HubSpot's observed default: 200, value unchanged) | reject (400)
  std::string lifecycle_backwards = "ignore";
  std::string default_lifecycle_stage = "lead";
  std::uint64_t random_seed = 0;  // 0 = seeded from the time
  std::size_t request_log_size = 10'000;
};

// The documented defaults: one portal (12345678) with teams and owners, one app.
SandboxConfig default_config();

// Parses YAML text. Every problem is added to `diagnostics` (file:line:col); the result is only
// meaningful when no error was added. Keys missing from the text keep their default values.
SandboxConfig parse_config(const std::string& text, const std::string& file_name, Diagnostics& diagnostics);
SandboxConfig load_config_file(const std::string& path, Diagnostics& diagnostics);
// Reads a parsed document; problems land in document.diagnostics().
SandboxConfig read_config(config::Document& document);

}  // namespace tandem::sandbox
