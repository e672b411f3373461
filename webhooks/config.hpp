#pragma once
// Configuration of the webhook intake, and the reader of its `webhooks:` section
// (webhooks/config.cpp). Every field has a default that is safe for production except the
// secret and the public base URL, which must be set.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config.hpp"
#include "common/secret.hpp"

namespace tandem::webhooks {

struct WebhooksConfig {
  // Path HubSpot POSTs to, as seen by Tandem (after any proxy rewrites nothing: see public_base_url).
  std::string path = "/webhooks/hubspot";
  // Scheme and authority HubSpot calls, e.g. "https://tandem.example.com". The v3 signature covers
  // the full URL as HubSpot sent it, so behind a proxy this is the proxy's public origin, not ours.
  // An optional path prefix is allowed ("https://example.com/hooks") when the proxy strips it.
  std::string public_base_url;
  // The app's client secret (keys every signature version).
  Secret client_secret;
  // Our HubSpot app id: events with changeSource INTEGRATION and this sourceId are our own echoes.
  std::string app_id;
  // v3 is always accepted. v1/v2 carry no timestamp (replayable forever), so they are off unless
  // enabled explicitly, e.g. for a legacy app that does not send v3 yet.
  bool accept_v1 = false;
  bool accept_v2 = false;
  // HubSpot: "Reject the request if the timestamp is older than 5 minutes". Future skew beyond the
  // same window is rejected too (our choice, see hubspot-contract.md §3.4).
  std::chrono::milliseconds timestamp_tolerance{5 * 60 * 1000};
  // HubSpot sends "up to 100 events" per request (hubspot-contract.md §3.1).
  std::size_t max_events_per_request = 100;
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::size_t max_connections = 512;
  // Requests verified and waiting for the committer beyond this get 503 + Retry-After at once,
  // which bounds memory; HubSpot retries them later.
  std::size_t max_pending_requests = 2048;
  // Seconds advertised in Retry-After on 503.
  int retry_after_seconds = 5;
  // Processed events (and with them their dedup keys) are deleted this long after arrival.
  // HubSpot retries for up to 24 h; the inbox never keeps keys less than 48 h.
  std::chrono::milliseconds dedup_retention{72 * 3600 * 1000};
  // How often the purge job runs (a background job of the connector's service).
  std::chrono::milliseconds purge_interval{3600 * 1000};
  // Claims of one inbox event before it is dead-lettered.
  int max_attempts = 5;
};

// Reads the `webhooks:` section (examples/tandem.yaml documents every key) into `config`; absent
// keys keep their values. public_base_url, client_secret, app_id and the listener limits come
// from other sections and are left alone. Problems land in the section's document.
void read_webhooks_config(config::ConfigSection section, WebhooksConfig& config);

}  // namespace tandem::webhooks
