// A test-only process running the webhook intake over a SQLite inbox, so that the durability test
// can kill it with SIGKILL mid-stream. Usage: intake_test_server DB_PATH PORT_FILE PUBLIC_BASE_URL
// with the client secret in TANDEM_TEST_WEBHOOK_SECRET. Writes the port to PORT_FILE once
// listening (atomically, through a rename). Composed like `tandem serve`: the connector's service
// with the webhook intake on it.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "connector/service.hpp"
#include "store/database.hpp"
#include "store/sqlite_inbox.hpp"
#include "webhooks/receiver.hpp"

int main(int argc, char** argv) {
  using namespace tandem;
  if (argc != 4) {
    std::cerr << "usage: intake_test_server DB_PATH PORT_FILE PUBLIC_BASE_URL\n";
    return 2;
  }
  try {
    store::StoreConfig store_config;
    store_config.path = argv[1];
    MetricsRegistry metrics;
    store::Database database(store_config, metrics);
    store::SqliteInbox inbox(database, SystemClock::instance());
    webhooks::WebhooksConfig config;
    config.public_base_url = argv[3];
    const char* secret = std::getenv("TANDEM_TEST_WEBHOOK_SECRET");
    config.client_secret = Secret(secret ? secret : "");
    webhooks::WebhookReceiver receiver(config, inbox, SystemClock::instance(), metrics);
    connector::Service::Options options;
    options.server = webhooks::WebhookReceiver::server_options(config, "127.0.0.1", 0);
    connector::Service service(std::move(options), SystemClock::instance(), metrics);
    connector::add_webhook_intake(service, receiver, config);
    const std::string port_file = argv[2];
    {
      std::ofstream out(port_file + ".tmp");
      out << service.port() << '\n';
    }
    std::filesystem::rename(port_file + ".tmp", port_file);
    service.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "intake_test_server: " << e.what() << '\n';
    return 1;
  }
}
