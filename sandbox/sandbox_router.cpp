#include "sandbox/sandbox_router.hpp"

#include <charconv>

#include <filesystem>
#include <fstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/crypto.hpp"
#include "sandbox/state_snapshot.hpp"

namespace tandem::sandbox {

namespace {

std::uint64_t pick_seed(std::uint64_t configured) {
  if (configured != 0) return configured;
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

WebhookSettings settings_from(const AppConfig& app) {
  return {app.webhook_target_url, app.max_concurrent_requests, app.subscriptions};
}

std::string_view category_for(int status) {
  switch (status) {
    case 423: return "LOCKED";
    case 477: return "MIGRATION_IN_PROGRESS";
    case 502:
    case 504: return "BAD_GATEWAY";
    case 503: return "SERVICE_UNAVAILABLE";
    default: return "INTERNAL_ERROR";
  }
}

http::Response rate_limit_response(std::string_view policy, std::string_view message) {
  json body = {{"status", "error"},
               {"message", message},
               {"errorType", "RATE_LIMIT"},
               {"correlationId", crypto::uuid_v4()},
               {"policyName", policy},
               {"requestId", crypto::uuid_v4()}};
  return json_response(429, body);
}

// The three 429 bodies of contract §7: "The message and policyName will indicate which limit you
// hit (either daily or secondly)" (developers.hubspot.com/docs/api/usage-details, "Error responses");
// the ten_secondly_rolling wording is from HubSpot community threads quoting real responses.
http::Response burst_429_response(std::string_view policy) {
  if (policy == "DAILY") return rate_limit_response("DAILY", "You have reached your daily limit.");
  if (policy == "SECONDLY") return rate_limit_response("SECONDLY", "You have reached your secondly limit.");
  return rate_limit_response("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.");
}

}  // namespace

std::optional<http::Response> ApiContext::require_scope(std::initializer_list<std::string_view> scopes) const {
  for (auto want : scopes)
    for (const auto& have : token->scopes)
      if (have == want) return std::nullopt;
  return missing_scopes_response(scopes);
}

http::Response missing_scopes_response(std::initializer_list<std::string_view> scopes) {
  json required = json::array();
  for (auto s : scopes) required.push_back(s);
  return error_response(
      403, "MISSING_SCOPES",
      "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: "
      "https://developers.hubspot.com/scopes.",
      json::array({{{"message", "One or more of the following scopes are required."},
                    {"context", {{"requiredGranularScopes", required}}}}}),
      nullptr, {{"scopes", "https://developers.hubspot.com/scopes"}});
}

std::variant<json, http::Response> parse_json_body(const http::Request& request) {
  if (request.body.empty()) {
    return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: the request body is empty");
  }
  try {
    return json::parse(request.body);
  } catch (const json::parse_error& e) {
    return error_response(400, "VALIDATION_ERROR", std::string("Invalid input JSON on byte ") + std::to_string(e.byte) + ": " + e.what());
  }
}

SandboxRouter::SandboxRouter(boost::asio::io_context& io, SandboxOptions opts)
    : io(io),
      options(std::move(opts)),
      clock(options.clock ? *options.clock : SystemClock::instance()),
      crm(options.config),
      limiter(clock, options.config.limits.ten_secondly, options.config.limits.search_per_second),
      faults(pick_seed(options.config.random_seed)) {
  faults.set_rules(options.config.faults);
  webhooks = std::make_unique<WebhookDispatcher>(io, clock, options.config.app.id, options.config.app.client_secret,
                                                 settings_from(options.config.app), options.config.delivery,
                                                 pick_seed(options.config.random_seed) + 1);
}

json SandboxRouter::startup_info() const {
  const auto& app = options.config.app;
  json portals = json::array();
  for (const auto& p : options.config.portals) portals.push_back(p.id);
  std::vector<std::string> scopes = app.required_scopes;
  std::string base = server ? server->base_url() : std::string{};
  return {{"url", base},
          {"portal_id", options.config.portals.front().id},
          {"portal_ids", portals},
          {"app_id", app.id},
          {"client_id", app.client_id},
          {"client_secret", app.client_secret},
          {"redirect_urls", app.redirect_urls},
          {"required_scopes", app.required_scopes},
          {"optional_scopes", app.optional_scopes},
          {"authorize_url", base + "/oauth/authorize"},
          {"token_url", base + "/oauth/2026-03/token"},
          {"webhook_target_url", webhooks->settings().target_url},
          {"max_concurrent_requests", webhooks->settings().max_concurrent_requests},
          {"inspect_url", base + "/_sandbox/"}};
}

void SandboxRouter::record(const http::Request& request, int status, std::int64_t started_ms, const std::string& fault) {
  json entry = {{"seq", next_request_seq++},
                {"at", started_ms},
                {"method", request.method},
                {"target", request.target},
                {"status", status},
                {"durationMs", now_ms() - started_ms}};
  if (!fault.empty()) entry["fault"] = fault;
  if (log.enabled(LogLevel::kDebug)) log.debug("request", entry);
  request_log.push_back(std::move(entry));
  while (request_log.size() > options.config.request_log_size) request_log.pop_front();
}

void SandboxRouter::handle(http::Request request, http::Responder responder) {
  auto seg = split_path(request.path());
  std::int64_t started = now_ms();
  if (!seg.empty() && seg[0] == "_sandbox") {
    std::vector<ChangeEvent> events;
    http::Response response;
    {
      std::unique_lock lock(mutex);
      auto r = handle_inspect(*this, request, seg, events);
      response = r ? std::move(*r) : error_response(404, "OBJECT_NOT_FOUND", "No sandbox route " + std::string(request.path()));
    }
    if (!events.empty()) webhooks->publish(events);
    responder(std::move(response));
    return;
  }
  FaultDecision fault;
  {
    std::unique_lock lock(mutex);
    // Rules scoped to one account need the request's portal before the route runs; an absent or
    // unknown token leaves it 0 (only unscoped rules match, and the route then answers 401).
    std::int64_t fault_portal = 0;
    const std::string prefix = "Bearer ";
    if (auto auth = request.headers.get("Authorization");
        auth && auth->size() > prefix.size() && http::iequals(auth->substr(0, prefix.size()), prefix)) {
      auto it = grants.access_tokens.find(std::string(auth->substr(prefix.size())));
      if (it != grants.access_tokens.end()) fault_portal = it->second.portal_id;
    }
    fault = faults.decide(request.method, request.path(), fault_portal);
  }
  auto run = [self = shared_from_this(), request = std::move(request), seg, started, fault](http::Responder responder) {
    std::string fault_name;
    http::Response response;
    std::vector<ChangeEvent> events;
    if (fault.rate_limited) {
      fault_name = "burst429";
      response = burst_429_response(fault.rate_limit_policy);
      if (fault.retry_after_s > 0) response.headers.set("Retry-After", std::to_string(fault.retry_after_s));
    } else if (fault.error_status) {
      fault_name = "error" + std::to_string(*fault.error_status);
      response = error_response(*fault.error_status, category_for(*fault.error_status), "Injected fault (sandbox)");
    } else if (fault.reset_before) {
      fault_name = "reset_before";
    } else {
      std::unique_lock lock(self->mutex);
      response = self->api(request, seg, events);
      if (fault.reset_after) fault_name = "reset_after";
    }
    if (fault.reset_before || fault.reset_after) {
      // Connection reset: the client must not learn whether the write happened. The HTTP server
      // resets the connection (SO_LINGER 0) instead of sending a response with this header.
      response = error_response(502, "BAD_GATEWAY", "connection reset (sandbox fault)");
      response.headers.set(http::kAbortHeader, "reset");
    }
    {
      std::unique_lock lock(self->mutex);
      self->record(request, fault.reset_before || fault.reset_after ? 0 : response.status, started, fault_name);
    }
    if (!events.empty()) self->webhooks->publish(events);
    responder(std::move(response));
  };
  if (fault.latency_ms > 0) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(fault.latency_ms));
    auto shared_responder = std::make_shared<http::Responder>(std::move(responder));
    timer->async_wait([timer, shared_responder, run = std::move(run)](boost::system::error_code) mutable {
      run(std::move(*shared_responder));
    });
    return;
  }
  run(std::move(responder));
}

http::Response SandboxRouter::api(const http::Request& request, const std::vector<std::string>& seg, std::vector<ChangeEvent>& events) {
  std::int64_t now = now_ms();
  if (!seg.empty() && seg[0] == "oauth") {
    auto r = handle_oauth(*this, request, seg, now);
    if (r) return std::move(*r);
    return error_response(404, "OBJECT_NOT_FOUND", "Unknown OAuth route " + std::string(request.path()));
  }
  // The Webhooks Journal authenticates the app (a client-credentials token), not an account.
  if (!seg.empty() && seg[0] == "webhooks-journal") {
    auto r = handle_journal(*this, request, seg, now);
    if (r) return std::move(*r);
    return error_response(404, "OBJECT_NOT_FOUND", "No route for " + request.method + " " + std::string(request.path()));
  }
  // Bearer authentication (contract §8: 401 bodies).
  auto auth = request.headers.get("Authorization");
  const std::string prefix = "Bearer ";
  if (!auth || auth->size() <= prefix.size() || !http::iequals(auth->substr(0, prefix.size()), prefix)) {
    return error_response(401, "INVALID_AUTHENTICATION",
                          "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                          "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview");
  }
  std::string token_text(auth->substr(prefix.size()));
  auto it = grants.access_tokens.find(token_text);
  if (it == grants.access_tokens.end() || it->second.revoked) {
    return error_response(401, "INVALID_AUTHENTICATION",
                          "The OAuth token used to make this call is invalid or has been revoked.");
  }
  const AccessToken& token = it->second;
  if (now >= token.expires_ms) {
    std::int64_t ago = (now - token.expires_ms) / 1000;
    std::string when = ago >= 86'400 ? std::to_string(ago / 86'400) + " day(s)" : std::to_string(ago / 60) + " minute(s)";
    return error_response(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired " + when + " ago.",
                          json::array(), {{"expire time", {iso8601_ms(token.expires_ms)}}});
  }
  Portal* portal = crm.portal(token.portal_id);
  if (!portal) return error_response(401, "INVALID_AUTHENTICATION", "The account of this token no longer exists.");

  bool search = is_search_route(request, seg);
  RateLimiter::Decision decision{};
  if (search) {
    decision = limiter.check_search(portal->config.id);
    if (!decision.allowed) return rate_limit_response("SECONDLY", "You have reached your secondly limit.");
  } else {
    decision = limiter.check_general(portal->config.id);
  }
  auto add_headers = [&](http::Response& r) {
    if (search) return;  // search responses carry no rate-limit headers (contract §4.2)
    r.headers.set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
    r.headers.set("X-HubSpot-RateLimit-Max", std::to_string(decision.limit));
    r.headers.set("X-HubSpot-RateLimit-Remaining", std::to_string(decision.remaining));
  };
  if (!decision.allowed) {
    auto r = rate_limit_response("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.");
    add_headers(r);
    return r;
  }
  ApiContext ctx{request, seg, {}, portal, &token, events, now, {"INTEGRATION", std::to_string(options.config.app.id)}};
  // Outside HubSpot's surface: X-Sandbox-Acting-User: <userId> makes a write look like a person
  // editing in HubSpot's UI (changeSource CRM_UI, sourceId "userId:<id>", as observed on HubSpot),
  // so demos and tests can play marketing and sales without the write being the app's own echo.
  if (auto acting = request.headers.get("X-Sandbox-Acting-User")) {
    std::int64_t user_id = 0;
    auto [end, ec] = std::from_chars(acting->data(), acting->data() + acting->size(), user_id);
    if (ec != std::errc() || end != acting->data() + acting->size() || user_id <= 0) {
      auto r = error_response(400, "VALIDATION_ERROR", "X-Sandbox-Acting-User must be a positive user id");
      add_headers(r);
      return r;
    }
    ctx.source = {"CRM_UI", "userId:" + std::to_string(user_id)};
  }
  auto q = parse_query(request.query());
  if (!q) {
    auto r = error_response(400, "VALIDATION_ERROR", "Malformed query string");
    add_headers(r);
    return r;
  }
  ctx.query = std::move(*q);
  http::Response response;
  try {
    auto r = handle_crm(*this, ctx);
    response = r ? std::move(*r)
                 : error_response(404, "OBJECT_NOT_FOUND", "No route for " + request.method + " " + std::string(request.path()));
  } catch (const json::exception& e) {
    // A body of the wrong shape (e.g. "inputs" not an array) is the caller's mistake, not ours.
    response = error_response(400, "VALIDATION_ERROR", std::string("Invalid input JSON: ") + e.what());
  }
  add_headers(response);
  return response;
}

std::optional<std::string> SandboxRouter::save_state_locked() {
  if (options.state_file.empty()) return std::nullopt;
  std::string tmp = options.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + tmp;
    out << take_snapshot(crm, grants).dump();
    if (!out.flush()) return "cannot write " + tmp;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options.state_file, ec);
  if (ec) return "cannot rename " + tmp + ": " + ec.message();
  return std::nullopt;
}

}  // namespace tandem::sandbox
