#include <iostream>

#include <CLI/CLI.hpp>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/commands.hpp"
#include "connector/connections.hpp"
#include "connector/lead_pipeline.hpp"
#include "oauth/key_ring.hpp"
#include "rules/ruleset.hpp"
#include "connector/service.hpp"
#include "connector/write_path.hpp"
#include "store/database.hpp"
#include "store/sqlite_audit.hpp"
#include "store/sqlite_contact_states.hpp"
#include "store/sqlite_inbox.hpp"
#include "store/sqlite_outbox.hpp"
#include "store/sqlite_token_store.hpp"
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
  // The rules name the score properties Tandem creates in each account on connect.
  auto rules = rules::load_ruleset(config.rules.path);
  if (!rules.ruleset) {
    std::cerr << rules.diagnostics.report("the rules");
    return 1;
  }
  auto keys = oauth::KeyRing::from_secrets(*config.oauth.token_key, config.oauth.previous_token_keys);
  if (!keys) {
    std::cerr << "tandem serve: oauth.token_key: " << keys.error().message << '\n';
    return 1;
  }
  configure_logging(config.log);
  Logger log("serve");
  try {
    MetricsRegistry metrics;
    // Destroyed in reverse: the service, then the receiver, then the stores and the database.
    store::Database database(config.store, metrics);
    store::SqliteInbox inbox(database, SystemClock::instance(), config.webhooks.max_attempts);
    store::SqliteOutbox outbox(database);
    store::SqliteTokenStore token_store(database, std::move(*keys));
    store::SqliteContactStates contact_states(database);
    store::SqliteAuditLog audit(database);
    webhooks::WebhookReceiver receiver(config.webhooks, inbox, SystemClock::instance(), metrics);
    Service service(std::move(options), SystemClock::instance(), metrics);
    add_webhook_intake(service, receiver, config.webhooks);
    add_outbox(service, outbox, metrics, SystemClock::instance(), config.outbox);
    ConnectionsOptions connections_options;
    for (const auto* p : {&rules.ruleset->ast.settings.fit_score_property, &rules.ruleset->ast.settings.engagement_score_property})
      if (!p->empty()) connections_options.score_properties.push_back(*p);
    Connections connections(service, config, token_store, outbox, metrics, SystemClock::instance(), connections_options);
    LeadPipeline lead_pipeline(service, config, rules.ruleset, inbox, outbox, contact_states, audit, database, connections,
                               metrics, SystemClock::instance());
    log.info("ready", {{"listen", service.base_url()},
                       {"public_url", config.webhooks.public_base_url + config.webhooks.path},
                       {"install_url", config.webhooks.public_base_url + config.oauth.install_path},
                       {"redirect_url", config.hubspot.redirect_url},
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
  auto* command = app.add_subcommand("serve", "Run the connector: the webhook intake (/webhooks/hubspot), the install "
                                              "(/oauth/install, /oauth/callback), the lead pipeline (rules, hand-offs, returns, "
                                              "SLA timers, backfill), the writes to HubSpot, /healthz, /readyz and /metrics, "
                                              "until SIGINT or SIGTERM (SIGHUP reloads the rules)");
  static std::string config_path;
  command->add_option("--config,-c", config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  command->callback([&exit_code] { exit_code = serve(config_path); });
}

}  // namespace tandem::connector
