#include "oauth/token_endpoint.hpp"

#include <sstream>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

namespace tandem::oauth {

using nlohmann::json;

namespace {

std::string field(const std::string& name, std::string_view value) {
  return name + "=" + http::form_encode(value);
}

// HubSpot's terminal refusals (contract §2.5): the code, the refresh token or the redirect URI.
bool refused_code(std::string_view code) {
  return code == "invalid_grant" || code == "BAD_REFRESH_TOKEN" || code == "BAD_AUTH_CODE" ||
         code == "BAD_REDIRECT_URI" || code == "invalid_request" || code == "unsupported_grant_type" ||
         code == "invalid_scope";
}

bool client_code(std::string_view code) {
  return code == "invalid_client" || code == "BAD_CLIENT_ID" || code == "BAD_CLIENT_SECRET" || code == "unauthorized_client";
}

GrantError error(GrantError::Kind kind, int status, std::string code, std::string message) {
  return GrantError{kind, status, std::move(code), std::move(message)};
}

}  // namespace

GrantResult parse_grant_response(const http::Response& response, bool expect_refresh_token) {
  const int status = response.status;
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (status == 200) {
    if (!body.is_object()) {
      return error(GrantError::Kind::kUnavailable, status, "",
                   "the token endpoint answered 200 with a body that is not JSON (cut short, or an HTML page)");
    }
    auto text = [&](const char* k) -> std::string {
      auto it = body.find(k);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto integer = [&](const char* k) -> std::int64_t {
      auto it = body.find(k);
      return it != body.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    };
    Grant g;
    g.access_token = Secret(text("access_token"));
    g.refresh_token = Secret(text("refresh_token"));
    g.expires_in_s = integer("expires_in");
    g.hub_id = integer("hub_id");
    g.user_id = integer("user_id");
    if (auto it = body.find("scopes"); it != body.end() && it->is_array())
      for (const auto& s : *it)
        if (s.is_string()) g.scopes.push_back(s.get<std::string>());
    if (g.access_token.empty() || (expect_refresh_token && g.refresh_token.empty()) || g.expires_in_s <= 0) {
      return error(GrantError::Kind::kUnavailable, status, "",
                   expect_refresh_token
                       ? "the token endpoint answered 200 without access_token, refresh_token and a positive expires_in"
                       : "the token endpoint answered 200 without access_token and a positive expires_in");
    }
    return g;
  }
  std::string code, message;
  if (body.is_object()) {
    auto str = [&](const char* k) {
      auto it = body.find(k);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    code = str("error");
    std::string legacy = str("status");
    message = str("error_description");
    if (message.empty()) message = str("message");
    if (code.empty()) code = legacy;
    // Prefer HubSpot's own status when it is more specific than RFC 6749's error.
    if (!legacy.empty() && legacy != "error" && (code == "invalid_grant" || code == "invalid_client")) code = legacy;
  }
  std::string what = "the token endpoint answered " + std::to_string(status);
  if (!code.empty()) what += " " + code;
  if (!message.empty()) what += ": " + message;
  if (status >= 500 || status == 429 || status == 408) return error(GrantError::Kind::kUnavailable, status, code, what);
  if (client_code(code)) return error(GrantError::Kind::kClient, status, code, what);
  if (status >= 400 && status < 500 && (refused_code(code) || code.empty() || status == 400))
    return error(GrantError::Kind::kRefused, status, code, what);
  if (status >= 400 && status < 500) return error(GrantError::Kind::kRefused, status, code, what);
  return error(GrantError::Kind::kUnavailable, status, code, what);
}

TokenEndpoint::TokenEndpoint(http::HttpClient& http, TokenEndpointConfig config) : http_(http), config_(std::move(config)) {}

hubspot::Awaitable<GrantResult> TokenEndpoint::exchange_code(std::string code) {
  std::string body = field("grant_type", "authorization_code") + "&" + field("client_id", config_.client_id) + "&" +
                     field("client_secret", config_.client_secret.reveal()) + "&" +
                     field("redirect_uri", config_.redirect_uri) + "&" + field("code", code);
  co_return co_await post(std::move(body), "exchanging the authorization code");
}

hubspot::Awaitable<GrantResult> TokenEndpoint::refresh(Secret refresh_token) {
  std::string body = field("grant_type", "refresh_token") + "&" + field("client_id", config_.client_id) + "&" +
                     field("client_secret", config_.client_secret.reveal()) + "&" +
                     field("refresh_token", refresh_token.reveal());
  co_return co_await post(std::move(body), "refreshing the access token");
}

hubspot::Awaitable<GrantResult> TokenEndpoint::client_credentials(std::vector<std::string> scopes) {
  std::string scope;
  for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string body = field("grant_type", "client_credentials") + "&" + field("client_id", config_.client_id) + "&" +
                     field("client_secret", config_.client_secret.reveal()) + "&" + field("scope", scope);
  co_return co_await post(std::move(body), "getting the app's client credentials token", false);
}

hubspot::Awaitable<Result<TokenEndpoint::TokenInfo, GrantError>> TokenEndpoint::introspect(Secret access_token) {
  using R = Result<TokenInfo, GrantError>;
  http::Request request;
  request.method = "POST";
  request.target = config_.path + "/introspect";
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.set("Accept", "application/json");
  // `token` as the spec names it (the prose's `access_token` field is a discrepancy, contract §2.3).
  request.body = field("client_id", config_.client_id) + "&" + field("client_secret", config_.client_secret.reveal()) + "&" +
                 field("token", access_token.reveal()) + "&" + field("token_type_hint", "access_token");
  http::CallOptions call;
  call.timeout = config_.timeout;
  http::ClientResult result = co_await http_.send(config_.origin, std::move(request), call);
  if (!result || result->status != 200)
    co_return R(error(GrantError::Kind::kUnavailable, result ? result->status : 0, "", "introspecting the access token failed"));
  json body = json::parse(result->body, nullptr, false);
  if (!body.is_object()) co_return R(error(GrantError::Kind::kUnavailable, 200, "", "the introspection answer is not JSON"));
  TokenInfo info;
  if (auto it = body.find("hub_domain"); it != body.end() && it->is_string()) info.hub_domain = it->get<std::string>();
  if (auto it = body.find("user"); it != body.end() && it->is_string()) info.user = it->get<std::string>();
  co_return R(std::move(info));
}

hubspot::Awaitable<GrantResult> TokenEndpoint::post(std::string body, const char* what, bool expect_refresh_token) {
  http::Request request;
  request.method = "POST";
  request.target = config_.path;
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.set("Accept", "application/json");
  request.body = std::move(body);
  http::CallOptions call;
  call.timeout = config_.timeout;
  http::ClientResult result = co_await http_.send(config_.origin, std::move(request), call);
  if (!result) {
    http::ClientError e = result.error();
    std::ostringstream s;
    s << e;
    co_return GrantResult(error(GrantError::Kind::kUnavailable, 0, "", std::string(what) + ": no answer from the token endpoint (" + s.str() + ")"));
  }
  GrantResult parsed = parse_grant_response(*result, expect_refresh_token);
  if (!parsed) {
    GrantError e = parsed.error();
    e.message = std::string(what) + ": " + e.message;
    co_return GrantResult(std::move(e));
  }
  co_return parsed;
}

}  // namespace tandem::oauth
