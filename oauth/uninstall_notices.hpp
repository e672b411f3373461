#pragma once
// Uninstalls made in HubSpot, learned from the app's Webhooks Journal (CONTRACT-ADDITIONS.md §5):
// HubSpot sends no push notice of an uninstall, so Tandem subscribes the app to its
// APP_LIFECYCLE_EVENT "app uninstall" events and reads the journal, entry by entry from where it
// stopped (the offset is kept in the token store, so a restart goes on where it was), with the
// app's client-credentials token. An uninstall disconnects the account at once — its tokens are
// deleted, its work stops, its data is kept for oauth.disconnected_retention — unless the account
// was installed again after it.
//
// Threads: poll() blocks (it runs its own io_context for the HTTP calls) and is meant for the
// service's job thread; status() is thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "oauth/token_endpoint.hpp"
#include "oauth/token_store.hpp"

namespace tandem::oauth {

// The journal's event type id for an app uninstall (HubSpot's OpenAPI spec,
// AppLifecycleEventSubscriptionUpsertRequest.eventTypeId: "4-1916193: App uninstall event").
inline constexpr const char* kAppUninstallEventType = "4-1916193";

struct UninstallNoticesOptions {
  std::string api_origin;        // hubspot.api_base_url
  TokenEndpointConfig endpoint;  // the client credentials go to the token endpoint
  http::ClientOptions http;
  std::int64_t app_id = 0;       // events naming another app are ignored; 0: not checked
  std::size_t max_entries_per_poll = 200;
};

class UninstallNotices {
 public:
  UninstallNotices(TokenStore& store, MetricsRegistry& metrics, const Clock& clock, UninstallNoticesOptions options);
  ~UninstallNotices();
  UninstallNotices(const UninstallNotices&) = delete;
  UninstallNotices& operator=(const UninstallNotices&) = delete;

  // One round: the token when needed, the subscription once, then every new journal entry.
  // Returns the accounts it disconnected. Never throws for HubSpot's or the network's failures
  // (they are logged, counted and shown in status()); the next round tries again.
  std::vector<std::int64_t> poll();

  // For /readyz: {"subscribed", "last_poll_at", "last_error" (empty when the last round worked),
  // "uninstalls"}.
  [[nodiscard]] nlohmann::json status() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tandem::oauth
