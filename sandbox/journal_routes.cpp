// HubSpot's Webhooks Journal (2026-03) for app lifecycle events (CONTRACT-ADDITIONS.md §5): the
// client-credentials grant, /webhooks-journal/subscriptions/2026-03 for APP_LIFECYCLE_EVENT
// subscriptions, /webhooks-journal/journal/2026-03/{earliest,latest,offset/{offset}/next}, and the
// entries' files behind pre-signed URLs. Only lifecycle events are journaled: CRM changes reach
// Tandem as push webhooks (contract §3).

#include <algorithm>
#include <string_view>

#include "common/crypto.hpp"
#include "sandbox/sandbox_router.hpp"

namespace tandem::sandbox {

namespace {

constexpr std::string_view kJournalScopes[] = {
    "developer.webhooks_journal.read",
    "developer.webhooks_journal.subscriptions.read",
    "developer.webhooks_journal.subscriptions.write",
    "developer.webhooks_journal.snapshots.read",
    "developer.webhooks_journal.snapshots.write",
};

void trim(AppJournal& j, std::int64_t now_ms) {
  while (!j.entries.empty() && j.entries.front().published_ms < now_ms - kJournalRetentionMs) j.entries.pop_front();
  for (auto it = j.urls.begin(); it != j.urls.end();) it = it->second.expires_ms <= now_ms ? j.urls.erase(it) : std::next(it);
}

json subscription_json(const SandboxRouter& s, const JournalSubscription& sub) {
  // SubscriptionResponse has no eventTypeId field (OpenAPI spec); which event a lifecycle
  // subscription covers is given as its objectTypeId [UNCONFIRMED: HubSpot's list may say it
  // elsewhere]. A client should accept either.
  const bool uninstall = sub.event_type_id == kAppUninstallEventType;
  return {{"id", sub.id},
          {"appId", s.options.config.app.id},
          {"subscriptionType", "APP_LIFECYCLE_EVENT"},
          {"objectTypeId", sub.event_type_id},
          {"actions", json::array({uninstall ? "APP_UNINSTALL" : "APP_INSTALL"})},
          {"properties", sub.properties},
          {"createdAt", iso8601_ms(sub.created_ms)},
          {"updatedAt", iso8601_ms(sub.updated_ms)}};
}

// The answer of earliest / latest / next: where the entry's file is, until when.
http::Response fetch_response(SandboxRouter& s, const JournalEntry& e, std::int64_t now_ms) {
  std::string key = crypto::random_hex(32);
  const std::int64_t expires = now_ms + kJournalUrlTtlMs;
  s.journal.urls[key] = {e.offset, expires};
  std::string base = s.server ? s.server->base_url() : std::string{};
  return json_response(200, json{{"currentOffset", e.offset},
                                 {"expiresAt", iso8601_ms(expires)},
                                 {"url", base + "/_sandbox/journal-files/" + key + "?X-Amz-Expires=" +
                                             std::to_string(kJournalUrlTtlMs / 1000)}});
}

// 204 when no entry is there yet [UNCONFIRMED: undocumented; reported by an integrator that
// tested against HubSpot].
http::Response nothing_new() { return http::Response{204, {}, {}}; }

std::optional<std::int64_t> portal_filter(const http::Request& request, http::Response& error) {
  auto q = parse_query(request.query());
  if (!q) {
    error = error_response(400, "VALIDATION_ERROR", "Malformed query string");
    return std::nullopt;
  }
  auto p = q->get("installPortalId");
  if (!p) return 0;
  std::int64_t id = std::atoll(p->c_str());
  if (id <= 0 || std::to_string(id) != *p) {
    error = error_response(400, "VALIDATION_ERROR", "installPortalId must be an account id");
    return std::nullopt;
  }
  return id;
}

http::Response read_journal(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                            std::int64_t now_ms) {
  http::Response error;
  auto portal = portal_filter(request, error);
  if (!portal) return error;
  auto& entries = s.journal.entries;
  auto matches = [&](const JournalEntry& e) { return *portal == 0 || e.portal_id == *portal; };
  if (seg.size() == 4 && seg[3] == "earliest") {
    auto it = std::find_if(entries.begin(), entries.end(), matches);
    return it == entries.end() ? nothing_new() : fetch_response(s, *it, now_ms);
  }
  if (seg.size() == 4 && seg[3] == "latest") {
    auto it = std::find_if(entries.rbegin(), entries.rend(), matches);
    return it == entries.rend() ? nothing_new() : fetch_response(s, *it, now_ms);
  }
  // offset/{offset}/next
  const std::string& offset = seg[4];
  auto at = std::find_if(entries.begin(), entries.end(), [&](const JournalEntry& e) { return e.offset == offset; });
  if (at == entries.end()) {
    // Expired (older than the retention) or never handed out (2027-03-beta reference: "Fails with
    // a 404 if the offset has expired or doesn't exist").
    return error_response(404, "OBJECT_NOT_FOUND", "Journal offset " + offset + " does not exist or has expired");
  }
  auto next = std::find_if(std::next(at), entries.end(), matches);
  return next == entries.end() ? nothing_new() : fetch_response(s, *next, now_ms);
}

http::Response upsert_subscription(SandboxRouter& s, const http::Request& request, std::int64_t now_ms) {
  auto parsed = parse_json_body(request);
  if (auto* r = std::get_if<http::Response>(&parsed)) return std::move(*r);
  const json& body = std::get<json>(parsed);
  if (!body.is_object()) return error_response(400, "VALIDATION_ERROR", "Invalid input JSON: expected an object");
  auto type = body.find("subscriptionType");
  if (type == body.end() || !type->is_string())
    return error_response(400, "VALIDATION_ERROR", "subscriptionType is required");
  if (*type != "APP_LIFECYCLE_EVENT") {
    return error_response(400, "VALIDATION_ERROR",
                          "The sandbox journals APP_LIFECYCLE_EVENT subscriptions only (CRM changes arrive as webhooks)");
  }
  // AppLifecycleEventSubscriptionUpsertRequest: eventTypeId, properties and subscriptionType are
  // all required (OpenAPI spec).
  auto event = body.find("eventTypeId");
  if (event == body.end() || !event->is_string() ||
      (*event != kAppInstallEventType && *event != kAppUninstallEventType)) {
    return error_response(400, "VALIDATION_ERROR",
                          std::string("eventTypeId must be ") + kAppInstallEventType + " (app install) or " +
                              kAppUninstallEventType + " (app uninstall)");
  }
  auto props = body.find("properties");
  if (props == body.end() || !props->is_array())
    return error_response(400, "VALIDATION_ERROR", "properties is required (an array of property names)");
  std::vector<std::string> properties;
  for (const auto& p : *props) {
    if (!p.is_string()) return error_response(400, "VALIDATION_ERROR", "properties must be strings");
    properties.push_back(p.get<std::string>());
  }
  for (const auto& [k, v] : body.items())
    if (k != "subscriptionType" && k != "eventTypeId" && k != "properties")
      return error_response(400, "VALIDATION_ERROR", "Unknown field '" + k + "' for an APP_LIFECYCLE_EVENT subscription");
  const std::string id = event->get<std::string>();
  for (auto& sub : s.journal.subscriptions) {
    if (sub.event_type_id == id) {
      // An upsert: the same event type again updates the one subscription.
      sub.properties = properties;
      sub.updated_ms = now_ms;
      return json_response(200, subscription_json(s, sub));
    }
  }
  s.journal.subscriptions.push_back({s.journal.next_subscription_id++, id, properties, now_ms, now_ms});
  return json_response(200, subscription_json(s, s.journal.subscriptions.back()));
}

http::Response subscriptions(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                             const AppToken& token, std::int64_t now_ms) {
  auto has = [&](std::string_view scope) {
    return std::find(token.scopes.begin(), token.scopes.end(), scope) != token.scopes.end();
  };
  const auto& m = request.method;
  if (seg.size() == 3) {
    if (m == "GET") {
      if (!has("developer.webhooks_journal.subscriptions.read"))
        return missing_scopes_response({"developer.webhooks_journal.subscriptions.read"});
      json results = json::array();
      for (const auto& sub : s.journal.subscriptions) results.push_back(subscription_json(s, sub));
      return json_response(200, json{{"results", results}});
    }
    if (m == "POST") {
      if (!has("developer.webhooks_journal.subscriptions.write"))
        return missing_scopes_response({"developer.webhooks_journal.subscriptions.write"});
      return upsert_subscription(s, request, now_ms);
    }
    return error_response(405, "METHOD_NOT_ALLOWED", "Use GET or POST");
  }
  const std::int64_t id = std::atoll(seg[3].c_str());
  auto it = std::find_if(s.journal.subscriptions.begin(), s.journal.subscriptions.end(),
                         [&](const JournalSubscription& sub) { return sub.id == id && std::to_string(id) == seg[3]; });
  if (m == "GET") {
    if (!has("developer.webhooks_journal.subscriptions.read"))
      return missing_scopes_response({"developer.webhooks_journal.subscriptions.read"});
    if (it == s.journal.subscriptions.end()) return error_response(404, "OBJECT_NOT_FOUND", "No subscription " + seg[3]);
    return json_response(200, subscription_json(s, *it));
  }
  if (m == "DELETE") {
    if (!has("developer.webhooks_journal.subscriptions.write"))
      return missing_scopes_response({"developer.webhooks_journal.subscriptions.write"});
    if (it == s.journal.subscriptions.end()) return error_response(404, "OBJECT_NOT_FOUND", "No subscription " + seg[3]);
    s.journal.subscriptions.erase(it);
    return http::Response{204, {}, {}};
  }
  return error_response(405, "METHOD_NOT_ALLOWED", "Use GET or DELETE");
}

}  // namespace

std::optional<json> issue_app_token(SandboxRouter& s, const std::vector<std::string>& scopes, std::int64_t now_ms, json& error) {
  // [UNCONFIRMED: whether HubSpot accepts a client-credentials request without a scope, or with
  // scopes outside the journal's; the strictest reading refuses both.]
  if (scopes.empty()) {
    error = {{"error", "invalid_scope"}, {"status", "BAD_SCOPE"},
             {"message", "scope is required for the client_credentials grant (developer.webhooks_journal.*)"},
             {"error_description", "scope is required for the client_credentials grant"}};
    return std::nullopt;
  }
  for (const auto& sc : scopes) {
    if (std::find(std::begin(kJournalScopes), std::end(kJournalScopes), sc) == std::end(kJournalScopes)) {
      error = {{"error", "invalid_scope"}, {"status", "BAD_SCOPE"},
               {"message", "scope " + sc + " cannot be granted to a client credentials token"},
               {"error_description", "scope " + sc + " cannot be granted to a client credentials token"}};
      return std::nullopt;
    }
  }
  std::string access = "sbx-app-" + crypto::random_hex(40);
  const auto ttl = s.options.config.oauth.access_token_ttl_s;
  s.journal.tokens[access] = {scopes, now_ms + ttl * 1000};
  // ClientCredentialsTokenResponse: access_token, expires_in, token_type, token_use; no refresh token.
  return json{{"access_token", access}, {"expires_in", ttl}, {"token_type", "bearer"}, {"token_use", "client_credentials"}};
}

void record_app_lifecycle(SandboxRouter& s, std::int64_t portal_id, bool uninstall, std::int64_t user_id, std::int64_t now_ms) {
  trim(s.journal, now_ms);
  const char* type = uninstall ? kAppUninstallEventType : kAppInstallEventType;
  bool subscribed = std::any_of(s.journal.subscriptions.begin(), s.journal.subscriptions.end(),
                                [&](const JournalSubscription& sub) { return sub.event_type_id == type; });
  if (!subscribed) return;  // the journal holds only what the app subscribed to
  std::string offset = crypto::uuid_v4();
  // The file's shape [UNCONFIRMED: HubSpot's "Event data format" section was not available;
  // taken from integrators' code: {offset, journalEvents[]} with the lifecycle event's action,
  // eventTypeId, portalId, occurredAt and hs_* properties].
  json properties = {{"hs_app_id", std::to_string(s.options.config.app.id)}, {"hs_app_install_level", "PORTAL"}};
  if (user_id > 0) {
    properties["hs_initiating_user_id"] = std::to_string(user_id);
    properties["hs_user_id"] = std::to_string(user_id);
  }
  json event = {{"type", "app_lifecycle_event"},
                {"action", uninstall ? "APP_UNINSTALL" : "APP_INSTALL"},
                {"eventTypeId", type},
                {"portalId", portal_id},
                {"occurredAt", iso8601_ms(now_ms)},
                {"properties", properties}};
  json file = {{"offset", offset}, {"publishedAt", iso8601_ms(now_ms)}, {"journalEvents", json::array({event})}};
  s.journal.entries.push_back({offset, portal_id, now_ms, std::move(file)});
  s.log.info("journal entry", {{"portal", portal_id}, {"action", uninstall ? "APP_UNINSTALL" : "APP_INSTALL"}});
}

void uninstall_app(SandboxRouter& s, std::int64_t portal_id, std::int64_t user_id, std::int64_t now_ms) {
  for (auto& [k, a] : s.grants.access_tokens)
    if (a.portal_id == portal_id) a.revoked = true;
  for (auto& [k, r] : s.grants.refresh_tokens)
    if (r.portal_id == portal_id) r.revoked = true;
  record_app_lifecycle(s, portal_id, true, user_id, now_ms);
}

std::optional<http::Response> handle_journal(SandboxRouter& s, const http::Request& request, const std::vector<std::string>& seg,
                                             std::int64_t now_ms) {
  if (seg.size() < 3 || seg[0] != "webhooks-journal" || seg[2] != "2026-03") return std::nullopt;
  const bool subs = seg[1] == "subscriptions" && (seg.size() == 3 || seg.size() == 4);
  const bool journal = seg[1] == "journal" && ((seg.size() == 4 && (seg[3] == "earliest" || seg[3] == "latest")) ||
                                               (seg.size() == 6 && seg[3] == "offset" && seg[5] == "next"));
  if (!subs && !journal) return std::nullopt;
  trim(s.journal, now_ms);
  auto auth = request.headers.get("Authorization");
  const std::string prefix = "Bearer ";
  if (!auth || auth->size() <= prefix.size() || !http::iequals(auth->substr(0, prefix.size()), prefix)) {
    return error_response(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
  }
  auto it = s.journal.tokens.find(std::string(auth->substr(prefix.size())));
  if (it == s.journal.tokens.end()) {
    // An account's access token is not the app's [UNCONFIRMED: HubSpot's exact answer to a user
    // token here; the guide says these endpoints use a client credentials token].
    return error_response(401, "INVALID_AUTHENTICATION",
                          "The webhooks journal API requires a client credentials token for the app.");
  }
  if (now_ms >= it->second.expires_ms) {
    return error_response(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.");
  }
  if (subs) return subscriptions(s, request, seg, it->second, now_ms);
  if (request.method != "GET") return error_response(405, "METHOD_NOT_ALLOWED", "Use GET");
  if (std::find(it->second.scopes.begin(), it->second.scopes.end(), "developer.webhooks_journal.read") == it->second.scopes.end())
    return missing_scopes_response({"developer.webhooks_journal.read"});
  return read_journal(s, request, seg, now_ms);
}

std::optional<http::Response> serve_journal_file(SandboxRouter& s, const http::Request& request,
                                                 const std::vector<std::string>& seg, std::int64_t now_ms) {
  if (seg.size() != 3 || seg[1] != "journal-files") return std::nullopt;
  auto xml_error = [](int status, std::string_view code, std::string_view message) {
    return http::Response::text(status,
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
                                    "</Code><Message>" + std::string(message) + "</Message></Error>\n",
                                "application/xml");
  };
  if (request.method != "GET") return xml_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  // A pre-signed URL carries its own signature: an Authorization header as well is refused, as
  // S3 does (2027-03-beta reference: "Request it without an Authorization header").
  if (request.headers.get("Authorization")) {
    return xml_error(400, "InvalidArgument",
                     "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
                     "parameter or the Authorization header should be specified");
  }
  auto it = s.journal.urls.find(seg[2]);
  if (it == s.journal.urls.end()) return xml_error(403, "AccessDenied", "Request has expired or its signature does not match");
  if (now_ms >= it->second.expires_ms) return xml_error(403, "AccessDenied", "Request has expired");
  auto entry = std::find_if(s.journal.entries.begin(), s.journal.entries.end(),
                            [&](const JournalEntry& e) { return e.offset == it->second.offset; });
  if (entry == s.journal.entries.end()) return xml_error(404, "NoSuchKey", "The specified key does not exist.");
  return json_response(200, entry->file);
}

}  // namespace tandem::sandbox
