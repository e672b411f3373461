#include "sandbox/config.hpp"

#include <cstdint>
#include <limits>

#include "common/config.hpp"

namespace tandem::sandbox {

SandboxConfig default_config() {
  SandboxConfig c;
  PortalConfig p;
  p.id = 12345678;
  p.domain = "sandbox.tandem.local";
  p.teams = {{"101", "Inbound Sales"}, {"102", "Enterprise Sales"}};
  p.owners = {
      {"201", "maria.manager@sandbox.example.com", "Maria", "Manager", 9001, "PERSON", false, {"101"}},
      {"202", "rick.rep@sandbox.example.com", "Rick", "Rep", 9002, "PERSON", false, {"101"}},
      {"203", "rita.rep@sandbox.example.com", "Rita", "Rep", 9003, "PERSON", false, {"102", "101"}},
      {"204", "sam.solo@sandbox.example.com", "Sam", "Solo", 9004, "PERSON", false, {}},
      {"205", "olga.former@sandbox.example.com", "Olga", "Former", 9005, "PERSON", true, {}},
  };
  c.portals.push_back(p);
  c.app.id = 4242;
  c.app.client_id = "5f0c8a52-7d1e-4c3b-9a0e-2c6d1b7e9f10";
  c.app.client_secret = "sandbox-secret-7c1e9b2a-4d3f-4e8a-b6c5-0f1e2d3c4b5a";
  c.app.redirect_urls = {"http://localhost:3000/oauth/callback", "http://localhost:8080/oauth/callback"};
  c.app.required_scopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read",
                          "crm.schemas.contacts.write"};
  c.app.optional_scopes = {"settings.users.teams.read", "crm.objects.companies.read"};
  c.app.webhook_target_url = "http://127.0.0.1:8080/webhooks/hubspot";
  c.app.max_concurrent_requests = 10;
  c.app.subscriptions = {
      {1001, "contact.creation", "", true},
      {1002, "contact.propertyChange", "lifecyclestage", true},
      {1003, "contact.propertyChange", "hs_lead_status", true},
      {1004, "contact.propertyChange", "hubspot_owner_id", true},
      {1005, "contact.propertyChange", "email", true},
      {1006, "contact.deletion", "", true},
  };
  return c;
}

namespace {

using config::ConfigSection;

int to_int(std::int64_t v) { return static_cast<int>(v); }

void read_portal(ConfigSection s, PortalConfig& p) {
  p.id = s.integer("id", p.id, 1, 2'147'483'647);
  if (!s.has("id")) s.error("id", "required");
  p.domain = s.string("domain", p.domain);
  p.time_zone = s.string("timeZone", p.time_zone);
  if (s.has("teams")) {
    p.teams.clear();
    for (auto t : s.sections("teams")) {
      TeamConfig team;
      team.id = t.string("id", team.id);
      team.name = t.string("name", team.name);
      t.finish();
      p.teams.push_back(team);
    }
  }
  if (s.has("owners")) {
    p.owners.clear();
    for (auto o : s.sections("owners")) {
      OwnerConfig owner;
      owner.id = o.string("id", owner.id);
      if (owner.id.empty()) o.error("id", "required");
      owner.email = o.string("email", owner.email);
      owner.first_name = o.string("firstName", owner.first_name);
      owner.last_name = o.string("lastName", owner.last_name);
      owner.user_id = o.integer("userId", owner.user_id, 0, std::numeric_limits<std::int64_t>::max());
      owner.type = o.choice("type", owner.type, {"PERSON", "QUEUE"});
      owner.archived = o.boolean("archived", owner.archived);
      if (o.has("teams")) owner.team_ids = o.strings("teams");
      o.finish();
      p.owners.push_back(owner);
    }
  }
  if (s.has("properties")) {
    p.properties.clear();
    for (auto n : s.sections("properties")) {
      CustomPropertyConfig prop;
      prop.object_type = n.choice("objectType", prop.object_type, {"contacts", "tasks"});
      prop.name = n.string("name", prop.name);
      if (prop.name.empty()) n.error("name", "required");
      prop.label = n.string("label", prop.label);
      prop.type = n.choice("type", prop.type, {"string", "number", "datetime", "date", "bool", "enumeration"});
      prop.options = n.strings("options");
      n.finish();
      p.properties.push_back(prop);
    }
  }
  s.finish();
}

void read_app(ConfigSection s, AppConfig& a) {
  a.id = s.integer("id", a.id, 1, 2'147'483'647);
  a.client_id = s.string("clientId", a.client_id);
  if (a.client_id.empty()) s.error("clientId", "must not be empty");
  a.client_secret = s.string("clientSecret", a.client_secret);
  if (a.client_secret.empty()) s.error("clientSecret", "must not be empty");
  if (s.has("redirectUrls")) {
    a.redirect_urls = s.strings("redirectUrls");
    if (a.redirect_urls.empty()) s.error("redirectUrls", "at least one is required");
  }
  if (s.has("requiredScopes")) a.required_scopes = s.strings("requiredScopes");
  if (s.has("optionalScopes")) a.optional_scopes = s.strings("optionalScopes");
  auto w = s.section("webhooks");
  a.webhook_target_url = w.string("targetUrl", a.webhook_target_url);
  a.max_concurrent_requests = to_int(w.integer("maxConcurrentRequests", a.max_concurrent_requests, 1, 1000));
  if (w.has("subscriptions")) {
    a.subscriptions.clear();
    std::int64_t next_id = 1001;
    for (auto sub : w.sections("subscriptions")) {
      SubscriptionConfig c;
      c.id = sub.integer("id", next_id++, 1, std::numeric_limits<std::int64_t>::max());
      c.subscription_type = sub.choice("subscriptionType", c.subscription_type,
                                       {"contact.creation", "contact.propertyChange", "contact.deletion",
                                        "object.creation", "object.propertyChange", "object.deletion", "contact.merge",
                                        "object.merge"});
      if (!sub.has("subscriptionType")) sub.error("subscriptionType", "required");
      c.property_name = sub.string("propertyName", c.property_name);
      c.active = sub.boolean("active", c.active);
      bool change = c.subscription_type.ends_with("propertyChange");
      if (change && c.property_name.empty()) sub.error("propertyName", "required for propertyChange");
      if (!change && !c.property_name.empty()) sub.error("propertyName", "only for propertyChange");
      sub.finish();
      a.subscriptions.push_back(c);
    }
  }
  w.finish();
  s.finish();
}

}  // namespace

SandboxConfig parse_config(const std::string& text, const std::string& file_name, Diagnostics& diagnostics) {
  auto document = config::Document::parse(text, file_name);
  SandboxConfig c = read_config(document);
  diagnostics.append(document.diagnostics());
  return c;
}

SandboxConfig read_config(config::Document& document) {
  SandboxConfig c = default_config();
  auto root = document.root();
  if (root.has("portals")) {
    c.portals.clear();
    for (auto p : root.sections("portals")) {
      PortalConfig portal;
      read_portal(p, portal);
      c.portals.push_back(portal);
    }
    if (c.portals.empty()) root.error("portals", "at least one portal is required");
  }
  read_app(root.section("app"), c.app);

  auto oauth = root.section("oauth");
  c.oauth.access_token_ttl_s = oauth.integer("accessTokenTtlSeconds", c.oauth.access_token_ttl_s, 1, 86'400 * 365);
  c.oauth.code_ttl_s = oauth.integer("codeTtlSeconds", c.oauth.code_ttl_s, 1, 86'400);
  c.oauth.user_id = oauth.integer("userId", c.oauth.user_id, 0, std::numeric_limits<std::int64_t>::max());
  c.oauth.user_email = oauth.string("userEmail", c.oauth.user_email);
  oauth.finish();

  auto limits = root.section("limits");
  auto& l = c.limits;
  l.ten_secondly = to_int(limits.integer("tenSecondly", l.ten_secondly, 1, 10'000'000));
  l.search_per_second = to_int(limits.integer("searchPerSecond", l.search_per_second, 1, 10'000'000));
  l.batch_max = to_int(limits.integer("batchMax", l.batch_max, 1, 100'000));
  l.search_max_limit = to_int(limits.integer("searchMaxLimit", l.search_max_limit, 1, 100'000));
  l.search_index_delay_ms = to_int(limits.integer("searchIndexDelayMs", l.search_index_delay_ms, 0, 600'000));
  l.search_result_cap = to_int(limits.integer("searchResultCap", l.search_result_cap, 1, 100'000'000));
  l.search_max_body = static_cast<std::size_t>(
      limits.integer("searchMaxBodyChars", static_cast<std::int64_t>(l.search_max_body), 1, 100'000'000));
  limits.finish();

  auto delivery = root.section("webhookDelivery");
  auto& d = c.delivery;
  d.timeout_ms = to_int(delivery.integer("timeoutMs", d.timeout_ms, 1, 600'000));
  d.max_retries = to_int(delivery.integer("maxRetries", d.max_retries, 0, 100));
  d.time_factor = delivery.number("timeFactor", d.time_factor, 0.0, 1000.0);
  d.duplicate_probability = delivery.number("duplicateProbability", d.duplicate_probability, 0.0, 1.0);
  d.out_of_order_probability = delivery.number("outOfOrderProbability", d.out_of_order_probability, 0.0, 1.0);
  d.max_events_per_request = to_int(delivery.integer("maxEventsPerRequest", d.max_events_per_request, 1, 100));
  delivery.finish();

  if (root.has("faults")) {
    c.faults.clear();
    for (auto fs : root.sections("faults")) {
      FaultRuleConfig f;
      f.method = fs.string("method", f.method);
      f.path = fs.string("path", f.path);
      f.latency_ms = to_int(fs.integer("latencyMs", f.latency_ms, 0, 600'000));
      f.error_rate = fs.number("errorRate", f.error_rate, 0.0, 1.0);
      if (fs.has("errorStatuses")) {
        f.error_statuses.clear();
        for (auto status : fs.integers("errorStatuses", 100, 599)) f.error_statuses.push_back(to_int(status));
      }
      f.burst_429 = to_int(fs.integer("burst429", f.burst_429, 0, 1'000'000));
      f.burst_429_policy = fs.choice("burst429Policy", f.burst_429_policy, {"TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY"});
      f.retry_after_s = to_int(fs.integer("retryAfterS", f.retry_after_s, 0, 86'400));
      f.portal = fs.integer("portal", f.portal, 0, std::numeric_limits<std::int64_t>::max());
      f.reset_rate = fs.number("resetRate", f.reset_rate, 0.0, 1.0);
      f.reset_when = fs.choice("resetWhen", f.reset_when, {"before", "after"});
      fs.finish();
      c.faults.push_back(f);
    }
  }

  auto lifecycle = root.section("lifecycle");
  c.lifecycle_backwards = lifecycle.choice("backwards", c.lifecycle_backwards, {"ignore", "reject"});
  c.default_lifecycle_stage = lifecycle.string("defaultStage", c.default_lifecycle_stage);
  lifecycle.finish();

  c.random_seed = static_cast<std::uint64_t>(root.integer("randomSeed", static_cast<std::int64_t>(c.random_seed), 0,
                                                          std::numeric_limits<std::int64_t>::max()));
  c.request_log_size = static_cast<std::size_t>(
      root.integer("requestLogSize", static_cast<std::int64_t>(c.request_log_size), 1, 10'000'000));
  root.finish();
  return c;
}

SandboxConfig load_config_file(const std::string& path, Diagnostics& diagnostics) {
  auto document = config::Document::load(path);
  SandboxConfig c = read_config(document);
  diagnostics.append(document.diagnostics());
  return c;
}

}  // namespace tandem::sandbox
