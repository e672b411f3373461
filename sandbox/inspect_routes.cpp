// The inspection API under /_sandbox/ (not part of HubSpot's surface), for tests and the demo:
// seed data, request log, webhook delivery log and settings, faults, limits, snapshot/restore,
// direct token minting.

#include <charconv>
#include <chrono>

#include "common/crypto.hpp"
#include "sandbox/sandbox_router.hpp"
#include "sandbox/state_snapshot.hpp"

namespace tandem::sandbox {

namespace {

std::uint64_t since_param(const http::Request& request) {
  auto q = parse_query(request.query());
  if (!q) return 0;
  auto s = q->get("since");
  std::uint64_t v = 0;
  if (s) std::from_chars(s->data(), s->data() + s->size(), v);
  return v;
}

http::Response bad(const std::string& message) { return error_response(400, "VALIDATION_ERROR", message); }

std::optional<json> body_json(const http::Request& request, http::Response& error) {
  auto parsed = parse_json_body(request);
  if (auto* r = std::get_if<http::Response>(&parsed)) {
    error = std::move(*r);
    return std::nullopt;
  }
  return std::get<json>(parsed);
}

Portal* portal_param(SandboxRouter& s, const http::Request& request) {
  auto q = parse_query(request.query());
  if (q) {
    if (auto id = q->get("portalId")) return s.crm.portal(std::atoll(id->c_str()));
  }
  return &s.crm.default_portal();
}

}  // namespace

std::optional<http::Response> handle_inspect(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                             std::vector<ChangeEvent>& events) {
  (void)events;
  const auto& m = request.method;
  std::string route;
  for (std::size_t i = 1; i < seg.size(); ++i) route += (i > 1 ? "/" : "") + seg[i];
  http::Response error;
  // The journal's pre-signed file URLs live under /_sandbox/ but stand for HubSpot's storage.
  if (auto file = serve_journal_file(s, request, seg, s.now_ms())) return file;

  if (route.empty() || route == "info") {
    if (m != "GET") return std::nullopt;
    json info = s.startup_info();
    info["routes"] = {"GET /_sandbox/info", "POST /_sandbox/seed[?portalId=]", "GET|DELETE /_sandbox/requests[?since=]",
                      "GET|DELETE /_sandbox/webhooks/deliveries[?since=]", "GET|PUT /_sandbox/webhooks/settings",
                      "GET|PUT /_sandbox/webhooks/delivery", "GET /_sandbox/webhooks/status", "GET|PUT|DELETE /_sandbox/faults",
                      "GET|PUT /_sandbox/limits", "GET /_sandbox/snapshot", "POST /_sandbox/restore", "POST /_sandbox/save",
                      "POST /_sandbox/oauth/tokens", "GET /_sandbox/stats", "POST /_sandbox/portals/{id}/uninstall",
                      "GET /_sandbox/journal"};
    return json_response(200, info);
  }
  if (route == "seed" && m == "POST") {
    auto t0 = std::chrono::steady_clock::now();
    auto body = body_json(request, error);
    if (!body) return error;
    Portal* p = portal_param(s, request);
    if (!p) return bad("unknown portalId");
    auto t1 = std::chrono::steady_clock::now();
    auto r = s.crm.seed(*p, *body, s.now_ms());
    if (auto* e = std::get_if<ApiError>(&r)) return json_response(e->status, e->body);
    auto t2 = std::chrono::steady_clock::now();
    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    json result = std::get<json>(r);
    result["parseMs"] = ms(t1 - t0);
    result["loadMs"] = ms(t2 - t1);
    s.log.info("seed loaded", result);
    return json_response(200, result);
  }
  if (route == "stats" && m == "GET") {
    json portals = json::array();
    for (const auto& [id, p] : s.crm.portals()) {
      json row = {{"portalId", id}, {"owners", p.owners.size()}};
      for (int t = 0; t < kObjectTypeCount; ++t) {
        std::size_t live = 0;
        for (const auto& [oid, o] : p.objects[t]) live += o.archived ? 0 : 1;
        row[std::string(object_type_name(static_cast<ObjectType>(t)))] = live;
      }
      portals.push_back(std::move(row));
    }
    return json_response(200, json{{"portals", portals}, {"requests", s.next_request_seq - 1}});
  }
  if (route == "requests") {
    if (m == "DELETE") {
      s.request_log.clear();
      return http::Response{204, {}, {}};
    }
    if (m != "GET") return std::nullopt;
    auto since = since_param(request);
    json out = json::array();
    for (const auto& e : s.request_log)
      if (e["seq"].get<std::uint64_t>() > since) out.push_back(e);
    return json_response(200, json{{"results", out}});
  }
  if (route == "webhooks/deliveries") {
    if (m == "DELETE") {
      s.webhooks->clear_log();
      return http::Response{204, {}, {}};
    }
    if (m != "GET") return std::nullopt;
    return json_response(200, json{{"results", s.webhooks->log(since_param(request))}});
  }
  if (route == "webhooks/status" && m == "GET") return json_response(200, s.webhooks->status());
  if (route == "webhooks/settings") {
    auto current = s.webhooks->settings();
    auto to_json = [](const WebhookSettings& w) {
      json subs = json::array();
      for (const auto& sc : w.subscriptions) {
        json j = {{"id", sc.id}, {"subscriptionType", sc.subscription_type}, {"active", sc.active}};
        if (!sc.property_name.empty()) j["propertyName"] = sc.property_name;
        subs.push_back(j);
      }
      return json{{"targetUrl", w.target_url}, {"maxConcurrentRequests", w.max_concurrent_requests}, {"subscriptions", subs}};
    };
    if (m == "GET") return json_response(200, to_json(current));
    if (m != "PUT") return std::nullopt;
    auto body = body_json(request, error);
    if (!body) return error;
    try {
      for (const auto& [k, v] : body->items())
        if (k != "targetUrl" && k != "maxConcurrentRequests" && k != "subscriptions") return bad("unknown key '" + k + "'");
      if (body->contains("targetUrl")) current.target_url = body->at("targetUrl").get<std::string>();
      if (body->contains("maxConcurrentRequests")) {
        int n = body->at("maxConcurrentRequests").get<int>();
        if (n < 1) return bad("maxConcurrentRequests must be >= 1");
        current.max_concurrent_requests = n;
      }
      if (body->contains("subscriptions")) {
        current.subscriptions.clear();
        std::int64_t next = 1001;
        for (const auto& sj : body->at("subscriptions")) {
          SubscriptionConfig sc;
          sc.id = sj.value("id", next);
          next = sc.id + 1;
          sc.subscription_type = sj.at("subscriptionType").get<std::string>();
          sc.property_name = sj.value("propertyName", "");
          sc.active = sj.value("active", true);
          current.subscriptions.push_back(sc);
        }
      }
    } catch (const json::exception& e) {
      return bad(e.what());
    }
    s.webhooks->set_settings(current);
    return json_response(200, to_json(current));
  }
  if (route == "webhooks/delivery") {
    auto d = s.webhooks->delivery();
    auto to_json = [](const DeliveryConfig& c) {
      return json{{"timeoutMs", c.timeout_ms}, {"maxRetries", c.max_retries}, {"timeFactor", c.time_factor},
                  {"duplicateProbability", c.duplicate_probability}, {"outOfOrderProbability", c.out_of_order_probability},
                  {"maxEventsPerRequest", c.max_events_per_request}};
    };
    if (m == "GET") return json_response(200, to_json(d));
    if (m != "PUT") return std::nullopt;
    auto body = body_json(request, error);
    if (!body) return error;
    try {
      for (const auto& [k, v] : body->items()) {
        if (k == "maxRetries") d.max_retries = v.get<int>();
        else if (k == "timeFactor") d.time_factor = v.get<double>();
        else if (k == "duplicateProbability") d.duplicate_probability = v.get<double>();
        else if (k == "outOfOrderProbability") d.out_of_order_probability = v.get<double>();
        else if (k == "maxEventsPerRequest") d.max_events_per_request = std::clamp(v.get<int>(), 1, 100);
        else return bad("unknown or read-only key '" + k + "' (timeoutMs is fixed at start)");
      }
    } catch (const json::exception& e) {
      return bad(e.what());
    }
    s.webhooks->set_delivery(d);
    return json_response(200, to_json(d));
  }
  if (route == "faults") {
    if (m == "GET") return json_response(200, s.faults.to_json());
    if (m == "DELETE") {
      s.faults.set_rules({});
      return http::Response{204, {}, {}};
    }
    if (m != "PUT") return std::nullopt;
    auto body = body_json(request, error);
    if (!body) return error;
    std::string message;
    auto rules = FaultInjector::parse(*body, message);
    if (!rules) return bad(message);
    s.faults.set_rules(std::move(*rules));
    return json_response(200, s.faults.to_json());
  }
  if (route == "limits") {
    auto to_json = [&] {
      return json{{"tenSecondly", s.limiter.ten_secondly()},
                  {"searchPerSecond", s.limiter.search_per_second()},
                  {"searchIndexDelayMs", s.crm.search_index_delay_ms()}};
    };
    if (m == "GET") return json_response(200, to_json());
    if (m != "PUT") return std::nullopt;
    auto body = body_json(request, error);
    if (!body) return error;
    int ten = body->value("tenSecondly", s.limiter.ten_secondly());
    int search = body->value("searchPerSecond", s.limiter.search_per_second());
    int delay = body->value("searchIndexDelayMs", s.crm.search_index_delay_ms());
    if (ten < 1 || search < 1) return bad("limits must be >= 1");
    if (delay < 0 || delay > 600'000) return bad("searchIndexDelayMs must be within [0, 600000]");
    s.limiter.set_limits(ten, search);
    // Applies to later writes; writes already waiting keep the visibility time they were given.
    s.crm.set_search_index_delay_ms(delay);
    s.limiter.reset();
    return json_response(200, to_json());
  }
  if (route == "snapshot" && m == "GET") return json_response(200, take_snapshot(s.crm, s.grants));
  if (route == "restore" && m == "POST") {
    auto body = body_json(request, error);
    if (!body) return error;
    if (auto e = restore_snapshot(*body, s.crm, s.grants)) return bad(*e);
    return json_response(200, json{{"restored", true}});
  }
  if (route == "save" && m == "POST") {
    if (s.options.state_file.empty()) return bad("the sandbox was started without --state");
    if (auto e = s.save_state_locked()) return error_response(500, "INTERNAL_ERROR", *e);
    return json_response(200, json{{"saved", s.options.state_file}});
  }
  if (seg.size() == 4 && seg[1] == "portals" && seg[3] == "uninstall" && m == "POST") {
    // An admin uninstalls the app in HubSpot's UI ({"userId"?}: who did it): the account's tokens
    // stop working, and the journal records APP_UNINSTALL when the app subscribed to it.
    std::int64_t portal = std::atoll(seg[2].c_str());
    if (!s.crm.portal(portal)) return bad("unknown portal " + seg[2]);
    std::int64_t user = s.options.config.oauth.user_id;
    if (!request.body.empty()) {
      auto body = body_json(request, error);
      if (!body) return error;
      user = body->value("userId", user);
    }
    uninstall_app(s, portal, user, s.now_ms());
    return http::Response{204, {}, {}};
  }
  if (route == "journal" && m == "GET") {
    // What the journal holds, for tests and demos: subscriptions and entries with their files.
    json subs = json::array(), entries = json::array();
    for (const auto& sub : s.journal.subscriptions) subs.push_back({{"id", sub.id}, {"eventTypeId", sub.event_type_id}});
    for (const auto& e : s.journal.entries) entries.push_back({{"offset", e.offset}, {"portalId", e.portal_id}, {"file", e.file}});
    return json_response(200, json{{"subscriptions", subs}, {"entries", entries}, {"appTokens", s.journal.tokens.size()}});
  }
  if (route == "oauth/tokens" && m == "POST") {
    // Mints a token pair without the browser step; {"portalId"?, "scopes"?, "expiresIn"?}.
    auto body = body_json(request, error);
    if (!body) return error;
    std::int64_t portal = body->value("portalId", s.crm.default_portal().config.id);
    if (!s.crm.portal(portal)) return bad("unknown portalId");
    auto scopes = body->value("scopes", s.options.config.app.required_scopes);
    std::int64_t ttl = body->value("expiresIn", s.options.config.oauth.access_token_ttl_s);
    std::string refresh = "na1-" + crypto::uuid_v4();
    std::string access = "sbx-" + crypto::random_hex(40);
    s.grants.refresh_tokens[refresh] = {portal, scopes, false};
    s.grants.access_tokens[access] = {portal, scopes, s.now_ms() + ttl * 1000, refresh, false};
    return json_response(200, json{{"access_token", access}, {"refresh_token", refresh}, {"expires_in", ttl}, {"hub_id", portal},
                                   {"scopes", scopes}, {"token_type", "bearer"}});
  }
  return std::nullopt;
}

}  // namespace tandem::sandbox
