#include "webhooks/config.hpp"

namespace tandem::webhooks {

void read_webhooks_config(config::ConfigSection s, WebhooksConfig& w) {
  w.path = s.string("path", w.path);
  if (w.path.empty() || w.path[0] != '/') {
    s.error("path", "expected an absolute path such as /webhooks/hubspot");
  } else if (w.path == "/healthz" || w.path == "/readyz" || w.path == "/metrics") {
    // The listener serves these itself; the service would refuse the route at start-up.
    s.error("path", "is served by Tandem itself; choose another path such as /webhooks/hubspot");
  }
  w.accept_v1 = s.boolean("accept_v1", w.accept_v1);
  w.accept_v2 = s.boolean("accept_v2", w.accept_v2);
  w.timestamp_tolerance = s.duration("timestamp_tolerance", w.timestamp_tolerance);
  w.max_events_per_request = static_cast<std::size_t>(
      s.integer("max_events_per_request", static_cast<std::int64_t>(w.max_events_per_request), 1, 10'000));
  w.max_pending_requests = static_cast<std::size_t>(
      s.integer("max_pending_requests", static_cast<std::int64_t>(w.max_pending_requests), 1, 1'000'000));
  w.retry_after_seconds = static_cast<int>(s.integer("retry_after_seconds", w.retry_after_seconds, 1, 3600));
  w.dedup_retention = s.duration("dedup_retention", w.dedup_retention);
  // HubSpot retries for up to 24 h; a key dropped sooner than 48 h could let a retry through twice.
  if (w.dedup_retention < std::chrono::hours(48)) s.error("dedup_retention", "must be at least 48h");
  w.purge_interval = s.duration("purge_interval", w.purge_interval);
  if (w.purge_interval < std::chrono::minutes(1)) s.error("purge_interval", "must be at least 1m");
  w.max_attempts = static_cast<int>(s.integer("max_attempts", w.max_attempts, 1, 1000));
  s.finish();
}

}  // namespace tandem::webhooks
