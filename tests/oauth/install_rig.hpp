#pragma once
// The install as an admin makes it, end to end on this machine: a sandbox HubSpot (its OAuth
// consent step and token endpoint), `tandem serve`'s pieces in this process (the service, the
// token store in a real SQLite file, the write path, the install flow), and a browser that
// follows redirects across both and keeps cookies.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/metrics.hpp"
#include "connector/config.hpp"
#include "connector/connections.hpp"
#include "connector/service.hpp"
#include "sandbox/config.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"
#include "store/sqlite_token_store.hpp"
#include "tests/hubspot/live_sandbox.hpp"

namespace tandem::testing {

// A free port on 127.0.0.1 (bound and released): the redirect URL must be known to the sandbox's
// app before Tandem listens.
std::uint16_t free_port();

inline constexpr const char* kTokenKeyHex = "5f0c1e2d3b4a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

// A sandbox whose app redirects to http://127.0.0.1:<tandem_port>/oauth/callback, with `portals`
// (ids) each in its own time zone, access tokens living `token_ttl_s`.
sandbox::SandboxConfig install_sandbox_config(std::uint16_t tandem_port, std::vector<std::int64_t> portals,
                                              std::int64_t token_ttl_s = 1800);

class Browser {
 public:
  struct Hop {
    std::string url;
    int status = 0;
  };
  // GET, following redirects (at most 10) across origins, sending and keeping cookies per origin.
  // `choose` may rewrite each URL before it is fetched (the person choosing an account on
  // HubSpot's consent page).
  http::Response get(const std::string& url);
  // The same without following: one request.
  http::Response get_once(const std::string& url);
  std::function<std::string(const std::string&)> choose;
  std::vector<Hop> hops;  // of the last get()
  std::map<std::string, std::map<std::string, std::string>> cookies;  // origin -> name -> value
};

// Tandem's serve, in this process, on its own thread.
class TandemUnderTest {
 public:
  // `extra_yaml` is appended to the generated tandem.yaml (top-level sections).
  TandemUnderTest(const LiveSandbox& sandbox, const sandbox::SandboxConfig& sandbox_config, std::uint16_t port,
                  const std::string& db_path, const std::string& extra_oauth_yaml = "",
                  const Clock& clock = SystemClock::instance());
  ~TandemUnderTest();
  [[nodiscard]] std::string base() const;  // http://127.0.0.1:PORT
  [[nodiscard]] std::string install_url() const { return base() + "/oauth/install"; }
  connector::TandemConfig config;
  std::string config_yaml;  // the tandem.yaml it runs with (secrets by {env:}, set in this process)
  MetricsRegistry metrics;
  std::unique_ptr<store::Database> database;
  std::unique_ptr<store::SqliteOutbox> outbox;
  std::unique_ptr<store::SqliteTokenStore> tokens;
  std::unique_ptr<connector::Service> service;
  std::unique_ptr<connector::Connections> connections;
  std::thread thread;
  // Runs f on the service's io thread and waits for it.
  void on_io(const std::function<void()>& f);
};

// POSTs to the token endpoint seen in the sandbox's request log (every outcome).
int token_requests(LiveSandbox& sandbox);

}  // namespace tandem::testing
