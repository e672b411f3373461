// OAuth 2.0 as HubSpot implements it (contract §2): the authorize redirect, the token endpoints
// (v1, v3, 2026-03) for the authorization_code, refresh_token and client_credentials grants,
// introspection and revocation, with HubSpot's error shapes.

#include <algorithm>
#include <set>

#include "common/crypto.hpp"
#include "common/secret.hpp"
#include "sandbox/sandbox_router.hpp"

namespace tandem::sandbox {

namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

std::string form_get(const Form& f, std::string_view name) {
  for (const auto& [k, v] : f)
    if (k == name) return v;
  return {};
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '+')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '+') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

http::Response redirect(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string location = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    location += sep;
    location += k + "=" + http::form_encode(v);
    sep = '&';
  }
  http::Response r = http::Response::text(302, "Redirecting to " + location + "\n");
  r.headers.set("Location", location);
  r.headers.set("Cache-Control", "no-store");
  return r;
}

json token_response(SandboxRouter& s, std::int64_t portal_id, const std::vector<std::string>& scopes, const std::string& refresh,
                    std::int64_t now_ms) {
  std::string access = "sbx-" + s.crm.portal(portal_id)->config.domain.substr(0, 3) + "-" + crypto::random_hex(40);
  auto ttl = s.options.config.oauth.access_token_ttl_s;
  s.grants.access_tokens[access] = {portal_id, scopes, now_ms + ttl * 1000, refresh, false};
  return {{"token_type", "bearer"},
          {"refresh_token", refresh},
          {"access_token", access},
          {"expires_in", ttl},
          {"hub_id", portal_id},
          {"user_id", s.options.config.oauth.user_id},
          {"scopes", scopes},
          {"token_use", "access_token"}};
}

std::optional<http::Response> check_client(SandboxRouter& s, const Form& form) {
  const auto& app = s.options.config.app;
  if (form_get(form, "client_id") != app.client_id) {
    return oauth_error("invalid_client", "BAD_CLIENT_ID", "missing or invalid client_id");
  }
  if (!constant_time_equals(form_get(form, "client_secret"), app.client_secret)) {
    return oauth_error("invalid_client", "BAD_CLIENT_SECRET", "missing or invalid client_secret");
  }
  return std::nullopt;
}

http::Response authorize(SandboxRouter& s, const http::Request& request, std::optional<std::int64_t> pinned_portal, std::int64_t now_ms) {
  const auto& app = s.options.config.app;
  auto q = http::parse_form(request.query());
  if (!q) return error_response(400, "VALIDATION_ERROR", "Malformed query string");
  auto get = [&](std::string_view n) { return form_get(*q, n); };
  if (get("client_id") != app.client_id) {
    return error_response(400, "VALIDATION_ERROR", "Authorization failed: unknown client_id");
  }
  std::string redirect_uri = get("redirect_uri");
  if (std::find(app.redirect_urls.begin(), app.redirect_urls.end(), redirect_uri) == app.redirect_urls.end()) {
    // Without a registered redirect URI there is nowhere safe to send the user (RFC 6749 §4.1.2.1).
    return error_response(400, "VALIDATION_ERROR",
                          "Authorization failed because the redirect URL doesn't match the app's settings: " + redirect_uri);
  }
  std::string state = get("state");
  auto fail = [&](const std::string& error, const std::string& description) {
    std::vector<std::pair<std::string, std::string>> params = {{"error", error}, {"error_description", description}};
    if (!state.empty()) params.emplace_back("state", state);
    return redirect(redirect_uri, params);
  };
  // Sandbox extension: ?sandbox_decision=deny simulates a user who refuses the install.
  if (get("sandbox_decision") == "deny") return fail("access_denied", "The user denied the installation request.");
  auto requested = split_spaces(get("scope"));
  auto optional = split_spaces(get("optional_scope"));
  std::set<std::string> requested_set(requested.begin(), requested.end());
  for (const auto& r : app.required_scopes) {
    if (!requested_set.contains(r)) return fail("invalid_scope", "Authorization failed because the scope parameter is missing the required scope " + r);
  }
  std::vector<std::string> granted;
  for (const auto& r : requested) {
    bool known = std::find(app.required_scopes.begin(), app.required_scopes.end(), r) != app.required_scopes.end() ||
                 std::find(app.optional_scopes.begin(), app.optional_scopes.end(), r) != app.optional_scopes.end();
    if (!known) return fail("invalid_scope", "Authorization failed because the scope " + r + " is not configured for this app");
    if (std::find(granted.begin(), granted.end(), r) == granted.end()) granted.push_back(r);
  }
  for (const auto& o : optional) {
    // Optional scopes the app has are granted; unknown ones are dropped as HubSpot does.
    if (std::find(app.optional_scopes.begin(), app.optional_scopes.end(), o) != app.optional_scopes.end() &&
        std::find(granted.begin(), granted.end(), o) == granted.end())
      granted.push_back(o);
  }
  std::int64_t portal_id = s.crm.default_portal().config.id;
  if (pinned_portal) portal_id = *pinned_portal;
  if (auto p = get("portal_id"); !p.empty()) portal_id = std::atoll(p.c_str());
  if (!s.crm.portal(portal_id)) return fail("invalid_request", "Unknown account " + std::to_string(portal_id));
  std::string code = "na1-" + crypto::uuid_v4();
  s.grants.codes[code] = {portal_id, granted, redirect_uri, now_ms + s.options.config.oauth.code_ttl_s * 1000};
  std::vector<std::pair<std::string, std::string>> params = {{"code", code}};
  if (!state.empty()) params.emplace_back("state", state);
  return redirect(redirect_uri, params);
}

http::Response token(SandboxRouter& s, const http::Request& request, bool v1, std::int64_t now_ms) {
  auto content_type = request.headers.get("Content-Type");
  Form form;
  if (!request.body.empty()) {
    if (!content_type || to_lower(*content_type).find("application/x-www-form-urlencoded") == std::string::npos) {
      return oauth_error("invalid_request", "BAD_REQUEST", "the token endpoint expects application/x-www-form-urlencoded");
    }
    auto f = http::parse_form(request.body);
    if (!f) return oauth_error("invalid_request", "BAD_REQUEST", "malformed form body");
    form = std::move(*f);
  }
  if (v1) {
    // v1 also accepted its parameters in the query string (contract §2.2).
    auto q = http::parse_form(request.query());
    if (q)
      for (auto& kv : *q)
        if (form_get(form, kv.first).empty()) form.push_back(kv);
  }
  std::string grant = form_get(form, "grant_type");
  if (grant != "authorization_code" && grant != "refresh_token" && grant != "client_credentials") {
    return oauth_error("unsupported_grant_type", "BAD_GRANT_TYPE",
                       "grant_type must be authorization_code, refresh_token or client_credentials");
  }
  if (auto e = check_client(s, form)) return *e;
  if (grant == "client_credentials") {
    // The app's own token, for the Webhooks Journal (journal_routes.cpp).
    json error;
    auto issued = issue_app_token(s, split_spaces(form_get(form, "scope")), now_ms, error);
    return issued ? json_response(200, *issued) : json_response(400, error);
  }
  if (grant == "authorization_code") {
    auto it = s.grants.codes.find(form_get(form, "code"));
    if (it == s.grants.codes.end()) return oauth_error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code");
    AuthCode code = it->second;
    s.grants.codes.erase(it);  // single use, even when the exchange below fails
    if (now_ms >= code.expires_ms) return oauth_error("invalid_grant", "BAD_AUTH_CODE", "auth code is expired");
    if (form_get(form, "redirect_uri") != code.redirect_uri) {
      return oauth_error("invalid_grant", "BAD_REDIRECT_URI", "redirect_uri does not match the one used to authorize");
    }
    std::string refresh = "na1-" + crypto::uuid_v4();
    s.grants.refresh_tokens[refresh] = {code.portal_id, code.scopes, false};
    record_app_lifecycle(s, code.portal_id, false, s.options.config.oauth.user_id, now_ms);
    return json_response(200, token_response(s, code.portal_id, code.scopes, refresh, now_ms));
  }
  std::string refresh = form_get(form, "refresh_token");
  auto it = s.grants.refresh_tokens.find(refresh);
  if (it == s.grants.refresh_tokens.end() || it->second.revoked || !s.crm.portal(it->second.portal_id)) {
    return oauth_error("invalid_grant", "BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked");
  }
  return json_response(200, token_response(s, it->second.portal_id, it->second.scopes, refresh, now_ms));
}

json access_info(SandboxRouter& s, const std::string& token, const AccessToken& a, std::int64_t now_ms) {
  const auto* p = s.crm.portal(a.portal_id);
  return {{"active", true},
          {"token", token},
          {"token_type", "Bearer"},
          {"token_use", "access_token"},
          {"user", s.options.config.oauth.user_email},
          {"hub_domain", p ? p->config.domain : ""},
          {"scopes", a.scopes},
          {"hub_id", a.portal_id},
          {"app_id", s.options.config.app.id},
          {"client_id", s.options.config.app.client_id},
          {"user_id", s.options.config.oauth.user_id},
          {"expires_in", std::max<std::int64_t>(0, (a.expires_ms - now_ms) / 1000)},
          {"is_private_distribution", false}};
}

json refresh_info(SandboxRouter& s, const std::string& token, const RefreshToken& r) {
  const auto* p = s.crm.portal(r.portal_id);
  return {{"active", true},
          {"token", token},
          {"token_type", "refresh"},
          {"token_use", "refresh_token"},
          {"user", s.options.config.oauth.user_email},
          {"hub_domain", p ? p->config.domain : ""},
          {"scopes", r.scopes},
          {"hub_id", r.portal_id},
          {"app_id", s.options.config.app.id},
          {"client_id", s.options.config.app.client_id},
          {"user_id", s.options.config.oauth.user_id}};
}

}  // namespace

std::optional<http::Response> handle_oauth(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                           std::int64_t now_ms) {
  const auto& m = request.method;
  if (seg.size() == 2 && seg[1] == "authorize" && m == "GET") return authorize(s, request, std::nullopt, now_ms);
  if (seg.size() == 3 && seg[2] == "authorize" && m == "GET") {
    return authorize(s, request, std::atoll(seg[1].c_str()), now_ms);
  }
  bool versioned = seg.size() >= 3 && (seg[1] == "v3" || seg[1] == "2026-03") && seg[2] == "token";
  if (seg.size() == 3 && seg[2] == "token" && (seg[1] == "v1" || versioned) && m == "POST") {
    return token(s, request, seg[1] == "v1", now_ms);
  }
  if (versioned && seg.size() == 4 && m == "POST" && (seg[3] == "introspect" || seg[3] == "revoke")) {
    auto form = http::parse_form(request.body).value_or(Form{});
    if (auto e = check_client(s, form)) return *e;
    std::string t = form_get(form, "token");
    if (t.empty()) t = form_get(form, "access_token");
    if (t.empty()) t = form_get(form, "refresh_token");
    if (t.empty()) return oauth_error("invalid_request", "BAD_REQUEST", "token is required");
    auto a = s.grants.access_tokens.find(t);
    auto r = s.grants.refresh_tokens.find(t);
    if (seg[3] == "introspect") {
      if (a != s.grants.access_tokens.end() && !a->second.revoked && now_ms < a->second.expires_ms)
        return json_response(200, access_info(s, t, a->second, now_ms));
      if (r != s.grants.refresh_tokens.end() && !r->second.revoked) return json_response(200, refresh_info(s, t, r->second));
      return json_response(200, json{{"active", false}});
    }
    if (a != s.grants.access_tokens.end()) a->second.revoked = true;
    if (r != s.grants.refresh_tokens.end()) r->second.revoked = true;
    return http::Response{204, {}, {}};
  }
  if (seg.size() == 4 && seg[1] == "v1" && seg[2] == "access-tokens" && m == "GET") {
    auto a = s.grants.access_tokens.find(seg[3]);
    if (a == s.grants.access_tokens.end() || a->second.revoked || now_ms >= a->second.expires_ms) {
      return json_response(404, json{{"status", "error"}, {"message", "Token not found or expired"},
                                     {"correlationId", crypto::uuid_v4()}, {"category", "OBJECT_NOT_FOUND"}});
    }
    json j = access_info(s, seg[3], a->second, now_ms);
    j.erase("active");
    j["token_type"] = "access";
    return json_response(200, j);
  }
  if (seg.size() == 4 && seg[1] == "v1" && seg[2] == "refresh-tokens" && (m == "GET" || m == "DELETE")) {
    auto r = s.grants.refresh_tokens.find(seg[3]);
    if (r == s.grants.refresh_tokens.end() || r->second.revoked) {
      return json_response(404, json{{"status", "error"}, {"message", "refresh token not found"},
                                     {"correlationId", crypto::uuid_v4()}, {"category", "OBJECT_NOT_FOUND"}});
    }
    if (m == "DELETE") {
      // Deletes the refresh token only; access tokens stay valid (contract §2.4).
      r->second.revoked = true;
      return http::Response{204, {}, {}};
    }
    json j = refresh_info(s, seg[3], r->second);
    j.erase("active");
    j.erase("app_id");
    return json_response(200, j);
  }
  return std::nullopt;
}

}  // namespace tandem::sandbox
