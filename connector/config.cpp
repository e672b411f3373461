#include "connector/config.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "common/file.hpp"

namespace tandem::connector {
namespace {

// A PEM file holds "-----BEGIN <label>-----"; anything else is a wrong file given by mistake.
std::optional<std::string> pem_file(config::ConfigSection& tls, const std::string& key) {
  auto contents = tls.file_contents(key);
  if (contents && contents->find("-----BEGIN ") == std::string::npos) {
    tls.error(key, "is not a PEM file");
    return std::nullopt;
  }
  return contents;
}

ServerConfig read_server(config::ConfigSection s, webhooks::WebhooksConfig& w) {
  ServerConfig c;
  if (auto listen = s.optional_string("listen")) {
    if (auto parsed = parse_host_port(*listen))
      c.listen = *parsed;
    else
      s.error("listen", parsed.error().message);
  }
  c.public_url = s.base_url("public_url", c.public_url);
  w.body_limit = s.bytes("body_limit", w.body_limit);
  w.header_limit = s.bytes("header_limit", w.header_limit);
  w.read_timeout = s.duration("read_timeout", w.read_timeout);
  w.max_connections = static_cast<std::size_t>(s.integer("max_connections", static_cast<std::int64_t>(w.max_connections), 1, 100'000));
  auto tls = s.section("tls");
  const bool has_certificate = tls.has("certificate_file");
  const bool has_key = tls.has("private_key_file");
  auto certificate = pem_file(tls, "certificate_file");
  auto key = pem_file(tls, "private_key_file");
  if (has_certificate != has_key) {
    s.error("tls", "give both certificate_file and private_key_file, or neither");
  } else if (certificate && key) {
    c.tls = http::TlsServerConfig{std::move(*certificate), std::move(*key)};
  }
  tls.finish();
  s.finish();
  return c;
}

HubSpotConfig read_hubspot(config::ConfigSection s, bool require_credentials) {
  HubSpotConfig c;
  c.api_base_url = s.base_url("api_base_url", c.api_base_url);
  if (c.api_base_url.empty()) s.error("api_base_url", "expected a URL such as https://api.hubapi.com");
  c.auth_base_url = s.base_url("auth_base_url", c.auth_base_url);
  if (c.auth_base_url.empty()) s.error("auth_base_url", "expected a URL such as https://app.hubspot.com");
  c.api_version = s.string("api_version", c.api_version);
  {
    const std::string& v = c.api_version;
    bool date = v.size() == 7 && v[4] == '-' && std::all_of(v.begin(), v.begin() + 4, ::isdigit) && ::isdigit(v[5]) &&
                ::isdigit(v[6]) && (v[5] == '0' ? v[6] != '0' : (v[5] == '1' && v[6] <= '2'));
    if (!date) s.error("api_version", "expected a date version such as 2026-03");
  }
  if (auto ca = s.optional_string("extra_ca_file")) {
    auto pem = read_file(*ca);
    if (!pem) s.error("extra_ca_file", "cannot read " + *ca + ": " + pem.error().message());
    else c.extra_ca_pem = std::move(*pem);
  }
  c.app_id = s.string("app_id", c.app_id);
  c.client_id = s.string("client_id", c.client_id);
  if (require_credentials && c.client_id.empty()) s.error("client_id", "required");
  c.client_secret = s.secret("client_secret", require_credentials);
  c.redirect_url = s.string("redirect_url", c.redirect_url);
  if (s.has("scopes")) c.scopes = s.strings("scopes");
  c.optional_scopes = s.strings("optional_scopes");
  for (const auto& o : c.optional_scopes)
    if (std::find(c.scopes.begin(), c.scopes.end(), o) != c.scopes.end())
      s.error("optional_scopes", "'" + o + "' is also a required scope");
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
  webhooks::read_webhooks_config(root.section("webhooks"), c.webhooks);
  c.store = store::read_store_config(root.section("store"));
  c.outbox = hubspot::read_outbox_config(root.section("outbox"));
  c.oauth = oauth::read_oauth_config(root.section("oauth"), require_credentials);
  c.manifest = manifests::read_manifest_config(root.section("manifest"));
  auto rules = root.section("rules");
  c.rules.path = rules.string("path", c.rules.path);
  c.rules.reload_interval = rules.duration("reload_interval", c.rules.reload_interval);
  if (c.rules.reload_interval < std::chrono::milliseconds(100)) rules.error("reload_interval", "must be at least 100ms");
  rules.finish();
  c.pipeline = pipeline::read_pipeline_config(root.section("pipeline"));
  c.log = read_log(root.section("log"));
  root.finish();
  c.webhooks.public_base_url =
      c.server.public_url.empty() ? "http://" + c.server.listen.to_string() : c.server.public_url;
  if (c.hubspot.client_secret) c.webhooks.client_secret = *c.hubspot.client_secret;
  c.webhooks.app_id = c.hubspot.app_id;
  if (c.hubspot.redirect_url.empty()) c.hubspot.redirect_url = c.webhooks.public_base_url + c.oauth.callback_path;
  diagnostics.append(document.diagnostics());
  return c;
}

std::optional<TandemConfig> load_config(const std::string& path, bool require_credentials) {
  auto document = config::Document::load(path);
  document.apply_environment(config::Document::process_environment());
  Diagnostics diagnostics;
  TandemConfig config = read_config(document, diagnostics, require_credentials);
  if (diagnostics.has_errors()) {
    std::cerr << diagnostics.report("the configuration");
    return std::nullopt;
  }
  return config;
}

}  // namespace tandem::connector
