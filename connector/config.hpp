#pragma once
// tandem.yaml, read strictly (common/config.hpp). Each module reads its own section next to its
// struct (webhooks/config.cpp, store/config.cpp); the server section is read here because the
// listener is the connector's. Every value is checked where it is read, so `tandem config check`
// rejects whatever `tandem serve` would.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/host_port.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "common/secret.hpp"
#include "hubspot/config.hpp"
#include "manifests/config.hpp"
#include "oauth/config.hpp"
#include "pipeline/config.hpp"
#include "store/config.hpp"
#include "webhooks/config.hpp"

namespace tandem::connector {

struct ServerConfig {
  // The webhook and health listener (server.listen, "host:port"); port 0 picks a free port.
  HostPort listen{"127.0.0.1", 8080};
  // The URL HubSpot calls, as seen from outside (Tandem usually runs behind a proxy); v3
  // webhook signatures are computed over it. Never ends in '/'. Empty: derived from `listen`.
  std::string public_url;
  // The certificate chain and private key (server.tls.*), read when the configuration is read;
  // the listener speaks HTTPS when set.
  std::optional<http::TlsServerConfig> tls;
};

struct HubSpotConfig {
  std::string api_base_url = "https://api.hubapi.com";
  std::string auth_base_url = "https://app.hubspot.com";
  // The date version in API paths (/crm/objects/2026-03/...): YYYY-MM.
  std::string api_version = "2026-03";
  // PEM certificates trusted in addition to the system store (a sandbox with its own certificate).
  std::string extra_ca_pem;
  std::string app_id;
  std::string client_id;
  std::optional<Secret> client_secret;
  // Where HubSpot sends the installing user back (the app's redirect URL). Empty: server.public_url
  // (or the listener's URL) + oauth.callback_path.
  std::string redirect_url;
  // Required scopes (the install URL's `scope`) and optional ones (`optional_scope`).
  std::vector<std::string> scopes = {"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write",
                                     "crm.objects.owners.read", "crm.schemas.contacts.write"};
  std::vector<std::string> optional_scopes;
};

struct RulesConfig {
  std::string path = "rules";
  // How often `tandem serve` looks at the rule files for a change (SIGHUP reloads at once).
  std::chrono::milliseconds reload_interval{std::chrono::seconds(2)};
};

struct TandemConfig {
  ServerConfig server;
  HubSpotConfig hubspot;
  // Listener limits (server.*), the public URL, the app id and client secret (hubspot.*) are
  // copied in, so the intake needs nothing else.
  webhooks::WebhooksConfig webhooks;
  store::StoreConfig store;
  hubspot::OutboxConfig outbox;
  oauth::OAuthConfig oauth;
  manifests::ManifestConfig manifest;
  RulesConfig rules;
  pipeline::PipelineSettings pipeline;
  LogSettings log;
};

// Reads every section; problems land in `diagnostics`, all of them. `require_credentials`
// makes the HubSpot client id and secret and the token key mandatory (serve needs them; a config
// check of a file meant for several environments may not).
TandemConfig read_config(config::Document& document, Diagnostics& diagnostics, bool require_credentials);

// What a command does with `--config FILE`: loads it, applies the TANDEM_* environment and reads
// it; prints every problem to stderr and returns nothing when there is an error.
std::optional<TandemConfig> load_config(const std::string& path, bool require_credentials = false);

}  // namespace tandem::connector
