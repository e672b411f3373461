#pragma once
// The install an admin makes from the HubSpot marketplace (contract §2.1, RFC 9700):
//
//   GET install_path   -> 302 to HubSpot's authorize URL with client_id, scope, optional_scope,
//                         redirect_uri and a state that is random, single-use, valid for
//                         oauth.state_ttl and bound to this browser by an HttpOnly cookie.
//   GET callback_path  <- HubSpot sends the browser back with ?code&state (or ?error). The state
//                         is checked and spent, the code exchanged at the token endpoint, the
//                         account id (hub_id) and its time zone learnt, the tokens stored
//                         (encrypted), Tandem's properties created, and a page says which account
//                         was connected and what happens next.
//
// Every failure (access denied, a bad, expired or replayed state, a refused code, a token
// endpoint that fails) answers a page that says what happened and what to do, logs the reason,
// stores nothing, and never shows a token, a code or the client secret.
//
// States live in memory: an install started before a restart must be started again.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"
#include "hubspot/client.hpp"
#include "oauth/account_tokens.hpp"
#include "oauth/token_endpoint.hpp"
#include "oauth/token_store.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::oauth {

struct InstallOptions {
  std::string authorize_url;  // hubspot.auth_base_url + "/oauth/authorize"
  std::string client_id;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::vector<std::string> optional_scopes;
  std::string install_path = "/oauth/install";
  std::string callback_path = "/oauth/callback";
  std::chrono::milliseconds state_ttl{std::chrono::minutes(10)};
  // The state cookie is Secure when the redirect URI is https.
  std::size_t max_pending_states = 10'000;
  // The properties to create on connect (hubspot::tandem_property_definitions).
  std::vector<hubspot::PropertyDefinition> properties;
};

class InstallFlow {
 public:
  // Called on io's thread once an account is connected (the write path resumes it).
  using ConnectedListener = std::function<void(std::int64_t portal)>;

  // Everything given must outlive the flow; the handlers run on `io`.
  InstallFlow(boost::asio::io_context& io, TokenEndpoint& endpoint, TokenStore& store, AccountTokenSource& tokens,
              hubspot::HubSpotClient& client, MetricsRegistry& metrics, const Clock& clock, InstallOptions options);
  ~InstallFlow();
  InstallFlow(const InstallFlow&) = delete;
  InstallFlow& operator=(const InstallFlow&) = delete;

  [[nodiscard]] http::Handler install_handler();
  [[nodiscard]] http::Handler callback_handler();
  void on_connected(ConnectedListener listener);
  [[nodiscard]] const InstallOptions& options() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::oauth
