#include "connector/config.hpp"

namespace tandem::connector {
namespace {

ServerConfig read_server(config::ConfigSection s, webhooks::WebhooksConfig& w) {
  ServerConfig c;
  c.listen = s.string("listen", c.listen);
  if (c.listen.rfind(':') == std::string::npos) s.error("listen", "expected host:port, e.g. 127.0.0.1:8080");
  c.public_url = s.string("public_url", c.public_url);
  if (!c.public_url.empty() && c.public_url.rfind("https://", 0) != 0 && c.public_url.rfind("http://", 0) != 0) {
    s.error("public_url", "expected an http:// or https:// URL");
  }
  w.body_limit = s.bytes("body_limit", w.body_limit);
  w.header_limit = s.bytes("header_limit", w.header_limit);
  w.read_timeout = s.duration("read_timeout", w.read_timeout);
  w.max_connections = static_cast<std::size_t>(s.integer("max_connections", static_cast<std::int64_t>(w.max_connections), 1, 100'000));
  auto tls = s.section("tls");
  c.tls_certificate_file = tls.optional_string("certificate_file");
  c.tls_private_key_file = tls.optional_string("private_key_file");
  if (c.tls_certificate_file.has_value() != c.tls_private_key_file.has_value()) {
    s.error("tls", "give both certificate_file and private_key_file, or neither");
  }
  tls.finish();
  s.finish();
  return c;
}

HubSpotConfig read_hubspot(config::ConfigSection s, bool require_credentials) {
  HubSpotConfig c;
  c.api_base_url = s.string("api_base_url", c.api_base_url);
  c.auth_base_url = s.string("auth_base_url", c.auth_base_url);
  c.app_id = s.string("app_id", c.app_id);
  c.client_id = s.string("client_id", c.client_id);
  if (require_credentials && c.client_id.empty()) s.error("client_id", "required");
  c.client_secret = s.secret("client_secret", require_credentials);
  c.redirect_url = s.string("redirect_url", c.redirect_url);
  c.scopes = s.strings("scopes");
  s.finish();
  return c;
}

void read_webhooks(config::ConfigSection s, webhooks::WebhooksConfig& w) {
  w.path = s.string("path", w.path);
  if (w.path.empty() || w.path[0] != '/') s.error("path", "expected an absolute path such as /webhooks/hubspot");
  w.accept_v1 = s.boolean("accept_v1", w.accept_v1);
  w.accept_v2 = s.boolean("accept_v2", w.accept_v2);
  w.timestamp_tolerance = s.duration("timestamp_tolerance", w.timestamp_tolerance);
  w.max_events_per_request =
      static_cast<std::size_t>(s.integer("max_events_per_request", static_cast<std::int64_t>(w.max_events_per_request), 1, 10'000));
  w.max_pending_requests =
      static_cast<std::size_t>(s.integer("max_pending_requests", static_cast<std::int64_t>(w.max_pending_requests), 1, 1'000'000));
  w.retry_after_seconds = static_cast<int>(s.integer("retry_after_seconds", w.retry_after_seconds, 1, 3600));
  w.dedup_retention = s.duration("dedup_retention", w.dedup_retention);
  // HubSpot retries for up to 24 h; a key dropped sooner than 48 h could let a retry through twice.
  if (w.dedup_retention < std::chrono::hours(48)) s.error("dedup_retention", "must be at least 48h");
  w.purge_interval = s.duration("purge_interval", w.purge_interval);
  if (w.purge_interval < std::chrono::minutes(1)) s.error("purge_interval", "must be at least 1m");
  s.finish();
}

store::StoreConfig read_store(config::ConfigSection s) {
  store::StoreConfig c;
  c.path = s.string("path", c.path);
  auto sync = s.choice("synchronous", "full", {"full", "normal"});
  c.synchronous = sync == "normal" ? store::StoreConfig::Synchronous::kNormal : store::StoreConfig::Synchronous::kFull;
  c.max_attempts = static_cast<int>(s.integer("max_attempts", c.max_attempts, 1, 1000));
  c.busy_timeout = s.duration("busy_timeout", c.busy_timeout);
  s.finish();
  return c;
}

LogSettings read_log(config::ConfigSection s) {
  LogSettings c;
  static const std::vector<std::string> kLevels = {"debug", "info", "warn", "error", "off"};
  c.level = *parse_log_level(s.choice("level", "info", kLevels));
  auto components = s.section("components");
  for (const auto& name : components.keys()) {
    auto level = parse_log_level(components.string(name, "info"));
    if (!level) components.error(name, "expected one of debug, info, warn, error, off");
    else c.components[name] = *level;
  }
  components.finish();
  s.finish();
  return c;
}

}  // namespace

TandemConfig read_config(config::Document& document, Diagnostics& diagnostics, bool require_credentials) {
  TandemConfig c;
  auto root = document.root();
  c.server = read_server(root.section("server"), c.webhooks);
  c.hubspot = read_hubspot(root.section("hubspot"), require_credentials);
  read_webhooks(root.section("webhooks"), c.webhooks);
  c.store = read_store(root.section("store"));
  auto rules = root.section("rules");
  c.rules.path = rules.string("path", c.rules.path);
  rules.finish();
  c.log = read_log(root.section("log"));
  root.finish();
  c.webhooks.public_base_url = c.server.public_url.empty() ? "http://" + c.server.listen : c.server.public_url;
  if (c.hubspot.client_secret) c.webhooks.client_secret = *c.hubspot.client_secret;
  c.webhooks.app_id = c.hubspot.app_id;
  diagnostics.append(document.diagnostics());
  return c;
}

}  // namespace tandem::connector
