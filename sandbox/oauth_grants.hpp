#pragma once
// The OAuth grants the sandbox has handed out (contract §2): authorization codes waiting for
// their exchange, access tokens and refresh tokens, each tied to one portal. Plain data: the
// router's mutex guards it, oauth_routes.cpp issues and revokes, state_snapshot.hpp saves it.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace tandem::sandbox {

struct AuthCode {
  std::int64_t portal_id;
  std::vector<std::string> scopes;
  std::string redirect_uri;
  std::int64_t expires_ms;
};

struct AccessToken {
  std::int64_t portal_id;
  std::vector<std::string> scopes;
  std::int64_t expires_ms;
  std::string refresh_token;
  bool revoked = false;
};

struct RefreshToken {
  std::int64_t portal_id;
  std::vector<std::string> scopes;
  bool revoked = false;
};

struct OAuthGrants {
  std::map<std::string, AuthCode> codes;
  std::unordered_map<std::string, AccessToken> access_tokens;
  std::unordered_map<std::string, RefreshToken> refresh_tokens;
};

}  // namespace tandem::sandbox
