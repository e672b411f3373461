#include "connector/config.hpp"

namespace tandem::connector {
namespace {

ServerConfig read_server(config::ConfigSection s) {
  ServerConfig c;
  c.listen = s.string("listen", c.listen);
  if (c.listen.rfind(':') == std::string::npos) s.error("listen", "expected host:port, e.g. 127.0.0.1:8080");
  c.public_url = s.string("public_url", c.public_url);
  if (!c.public_url.empty() && c.public_url.rfind("https://", 0) != 0 && c.public_url.rfind("http://", 0) != 0) {
    s.error("public_url", "expected an http:// or https:// URL");
  }
  c.body_limit = s.bytes("body_limit", c.body_limit);
  c.read_timeout = s.duration("read_timeout", c.read_timeout);
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
  c.server = read_server(root.section("server"));
  c.hubspot = read_hubspot(root.section("hubspot"), require_credentials);
  auto store = root.section("store");
  c.store.path = store.string("path", c.store.path);
  store.finish();
  auto rules = root.section("rules");
  c.rules.path = rules.string("path", c.rules.path);
  rules.finish();
  c.log = read_log(root.section("log"));
  root.finish();
  diagnostics.append(document.diagnostics());
  return c;
}

}  // namespace tandem::connector
