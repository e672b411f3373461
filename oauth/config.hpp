#pragma once
// The `oauth:` section of tandem.yaml: the install flow's routes, the token endpoint, how tokens
// are kept at rest and refreshed (examples/tandem.yaml documents every key).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/secret.hpp"

namespace tandem::oauth {

struct OAuthConfig {
  // 32 random bytes (hex or Base64) that encrypt the tokens at rest; required by `serve`.
  std::optional<Secret> token_key;
  // Keys that sealed tokens before a rotation: they still decrypt, never encrypt.
  std::vector<Secret> previous_token_keys;
  // Routes on the `tandem serve` listener.
  std::string install_path = "/oauth/install";
  std::string callback_path = "/oauth/callback";
  // The token endpoint's path on hubspot.api_base_url (contract §2.2).
  std::string token_path = "/oauth/2026-03/token";
  // How long an install's state stays valid (RFC 9700 §4.7: short-lived, single-use).
  std::chrono::milliseconds state_ttl{std::chrono::minutes(10)};
  // Refresh an access token this long before it expires (HubSpot: refresh from expires_in, a 401 is
  // not a reliable signal; contract §2.2).
  std::chrono::milliseconds refresh_before{std::chrono::minutes(5)};
  // Backoff between failed refreshes: exponential from retry_base, capped at retry_cap.
  std::chrono::milliseconds retry_base{std::chrono::seconds(1)};
  std::chrono::milliseconds retry_cap{std::chrono::minutes(5)};
  // A disconnected account's data (outbox, account row) is deleted this long after it was
  // disconnected; `tandem accounts disconnect --delete-data` deletes it at once.
  std::chrono::milliseconds disconnected_retention{std::chrono::hours(24 * 30)};
  // Learn of uninstalls made in HubSpot from the app's Webhooks Journal (HubSpot sends no push
  // notice), read every uninstall_poll_interval with the app's client-credentials token.
  bool uninstall_notices = true;
  std::chrono::milliseconds uninstall_poll_interval{std::chrono::minutes(1)};
};

// Absent keys keep their defaults; problems land in the section's document. `require_key` makes
// token_key mandatory (serve; a config check of a template may not have it).
OAuthConfig read_oauth_config(config::ConfigSection section, bool require_key);

}  // namespace tandem::oauth
