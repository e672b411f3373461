#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/commands.hpp"
#include "connector/service.hpp"
#include "store/sqlite_inbox.hpp"
#include "webhooks/receiver.hpp"

namespace tandem::connector {
namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

int serve(const std::string& config_path) {
  auto document = config::Document::load(config_path);
  document.apply_environment(config::Document::process_environment());
  Diagnostics diagnostics;
  TandemConfig config = read_config(document, diagnostics, /*require_credentials=*/true);
  const auto colon = config.server.listen.rfind(':');
  std::string address;
  std::uint16_t port = 0;
  if (colon != std::string::npos) {
    address = config.server.listen.substr(0, colon);
    try {
      int p = std::stoi(config.server.listen.substr(colon + 1));
      if (p < 0 || p > 65535) throw std::out_of_range("port");
      port = static_cast<std::uint16_t>(p);
    } catch (const std::exception&) {
      diagnostics.error(config_path, 0, 0, "server.listen: the port must be a number from 0 to 65535");
    }
  }
  Service::Options options;
  options.server = webhooks::WebhookReceiver::server_options(config.webhooks, address, port);
  if (config.server.tls_certificate_file && config.server.tls_private_key_file) {
    http::TlsServerConfig tls;
    if (!read_file(*config.server.tls_certificate_file, tls.certificate_chain_pem)) {
      diagnostics.error(config_path, 0, 0, "server.tls.certificate_file: cannot read " + *config.server.tls_certificate_file);
    }
    if (!read_file(*config.server.tls_private_key_file, tls.private_key_pem)) {
      diagnostics.error(config_path, 0, 0, "server.tls.private_key_file: cannot read " + *config.server.tls_private_key_file);
    }
    options.server.tls = std::move(tls);
  }
  if (diagnostics.has_errors()) {
    std::cerr << diagnostics.format();
    std::cerr << diagnostics.error_count() << " error(s) in the configuration\n";
    return 1;
  }
  configure_logging(config.log);
  Logger log("serve");
  try {
    store::SqliteInbox inbox(config.store, SystemClock::instance());
    MetricsRegistry metrics;
    // Destroyed in reverse: the service, then the receiver, then the store.
    webhooks::WebhookReceiver receiver(config.webhooks, inbox, SystemClock::instance(), metrics);
    Service service(std::move(options), SystemClock::instance(), metrics);
    add_webhook_intake(service, receiver, config.webhooks);
    log.info("webhook intake ready", {{"listen", service.base_url()},
                                      {"public_url", config.webhooks.public_base_url + config.webhooks.path},
                                      {"store", config.store.path}});
    service.run();
    return 0;
  } catch (const std::exception& e) {
    log.error("cannot start", {{"error", e.what()}});
    std::cerr << "tandem serve: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("serve", "Run the connector: the webhook intake (/webhooks/hubspot, /healthz, "
                                              "/readyz, /metrics) over the inbox, until SIGINT or SIGTERM");
  static std::string config_path;
  command->add_option("--config,-c", config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  command->callback([&exit_code] { exit_code = serve(config_path); });
}

}  // namespace tandem::connector
