#pragma once
// HubSpot's OAuth token endpoint (contract §2.2, §2.5): the authorization_code, refresh_token and
// client_credentials grants as form posts, their answers parsed, and every failure sorted into
// what the caller does next — start over (the code or refresh token was refused), fix the
// configuration (the client id or secret was refused), or try again later (5xx, 429, no answer, a
// body that is not the JSON expected). Never logs; no message carries a token, a code or the client secret.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "common/http_client.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"
#include "hubspot/awaitable.hpp"

namespace tandem::oauth {

struct TokenEndpointConfig {
  std::string origin;  // hubspot.api_base_url, e.g. https://api.hubapi.com
  std::string path = "/oauth/2026-03/token";
  std::string client_id;
  Secret client_secret;
  std::string redirect_uri;  // sent with the code; must equal the one of the authorize step
  std::chrono::milliseconds timeout{15'000};
};

struct Grant {
  Secret access_token;
  Secret refresh_token;
  std::int64_t expires_in_s = 0;
  std::int64_t hub_id = 0;   // 0 when the answer did not say (optional in the spec)
  std::int64_t user_id = 0;
  std::vector<std::string> scopes;
};

struct GrantError {
  enum class Kind {
    kRefused,      // invalid_grant and the like: the code or refresh token is no good; do not retry
    kClient,       // invalid_client: Tandem's client id or secret is wrong (configuration)
    kUnavailable,  // 5xx, 429, no answer, or an answer that is not the JSON expected: try later
  };
  Kind kind = Kind::kUnavailable;
  int status = 0;       // the HTTP status, 0 without an answer
  std::string code;     // HubSpot's `error` or legacy `status` (BAD_REFRESH_TOKEN, ...), when given
  std::string message;  // one line for logs and pages; never a secret
  friend std::ostream& operator<<(std::ostream& os, const GrantError& e) { return os << e.message; }
};

using GrantResult = Result<Grant, GrantError>;

class TokenEndpoint {
 public:
  // http must outlive the endpoint; call from http's io_context.
  TokenEndpoint(http::HttpClient& http, TokenEndpointConfig config);
  hubspot::Awaitable<GrantResult> exchange_code(std::string code);
  hubspot::Awaitable<GrantResult> refresh(Secret refresh_token);
  // The app's own token (no account, no refresh token): grant_type=client_credentials with
  // `scopes`, for the Webhooks Journal (CONTRACT-ADDITIONS.md §5).
  hubspot::Awaitable<GrantResult> client_credentials(std::vector<std::string> scopes);
  // What HubSpot says about an access token (contract §2.3, POST <token path>/introspect): the
  // account's domain and the installing user's email; empty strings when it does not say.
  struct TokenInfo {
    std::string hub_domain;
    std::string user;
  };
  hubspot::Awaitable<Result<TokenInfo, GrantError>> introspect(Secret access_token);
  [[nodiscard]] const TokenEndpointConfig& config() const { return config_; }

 private:
  hubspot::Awaitable<GrantResult> post(std::string body, const char* what, bool expect_refresh_token = true);
  http::HttpClient& http_;
  TokenEndpointConfig config_;
};

// Sorts a token endpoint answer (exposed for tests); a client-credentials answer has no refresh token.
GrantResult parse_grant_response(const http::Response& response, bool expect_refresh_token = true);

}  // namespace tandem::oauth
