#include "hubspot/config.hpp"

namespace tandem::hubspot {

OutboxConfig read_outbox_config(config::ConfigSection s) {
  OutboxConfig c;
  // HubSpot allows 110 requests per rolling 10 s per account to an OAuth app and 5 searches per
  // second (hubspot-contract.md §7); going over only buys 429s, so the ceilings are HubSpot's.
  c.limits.per_ten_seconds = static_cast<int>(s.integer("requests_per_10s", c.limits.per_ten_seconds, 1, 110));
  c.limits.search_per_second = static_cast<int>(s.integer("searches_per_second", c.limits.search_per_second, 1, 5));
  c.writer.requests_per_account =
      static_cast<int>(s.integer("requests_in_flight_per_account", c.writer.requests_per_account, 1, 32));
  c.request_timeout = s.duration("request_timeout", c.request_timeout);
  if (c.request_timeout < std::chrono::seconds(1)) s.error("request_timeout", "must be at least 1s");
  c.writer.settle = s.duration("settle", c.writer.settle);
  if (c.writer.settle <= c.request_timeout)
    s.error("settle", "must be longer than request_timeout: a create HubSpot received may still be applied until then");
  c.writer.max_attempts = static_cast<int>(s.integer("max_attempts", c.writer.max_attempts, 1, 1000));
  c.writer.retry.base = s.duration("retry_base", c.writer.retry.base);
  c.writer.retry.cap = s.duration("retry_cap", c.writer.retry.cap);
  if (c.writer.retry.cap < c.writer.retry.base) s.error("retry_cap", "must be at least retry_base");
  c.retention = s.duration("retention", c.retention);
  if (c.retention < std::chrono::hours(24)) s.error("retention", "must be at least 24h");
  s.finish();
  return c;
}

}  // namespace tandem::hubspot
