#include <iostream>

#include <CLI/CLI.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/commands.hpp"
#include "connector/service.hpp"
#include "connector/write_path.hpp"
#include "store/database.hpp"
#include "store/sqlite_inbox.hpp"
#include "store/sqlite_outbox.hpp"
#include "webhooks/receiver.hpp"

namespace tandem::connector {
namespace {

int serve(const std::string& config_path) {
  auto document = config::Document::load(config_path);
  document.apply_environment(config::Document::process_environment());
  Diagnostics diagnostics;
  TandemConfig config = read_config(document, diagnostics, /*require_credentials=*/true);
  Service::Options options;
  options.server =
      webhooks::WebhookReceiver::server_options(config.webhooks, config.server.listen.host, config.server.listen.port);
  options.server.tls = config.server.tls;
  if (diagnostics.has_errors()) {
    std::cerr << diagnostics.report("the configuration");
    return 1;
  }
  configure_logging(config.log);
  Logger log("serve");
  try {
    MetricsRegistry metrics;
    // Destroyed in reverse: the service, then the receiver, then the inbox and the database.
    store::Database database(config.store, metrics);
    store::SqliteInbox inbox(database, SystemClock::instance(), config.webhooks.max_attempts);
    // The outbox's table and gauges; its writer joins once accounts have tokens (the install).
    store::SqliteOutbox outbox(database);
    webhooks::WebhookReceiver receiver(config.webhooks, inbox, SystemClock::instance(), metrics);
    Service service(std::move(options), SystemClock::instance(), metrics);
    add_webhook_intake(service, receiver, config.webhooks);
    add_outbox(service, outbox, metrics, SystemClock::instance(), config.outbox);
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
