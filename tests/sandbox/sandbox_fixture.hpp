#pragma once
// Runs a SandboxServer on 127.0.0.1:0 with a ManualClock, its io_context on a thread, and talks
// to it over real HTTP with tandem::http::fetch (HTTPS when given TLS material).

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "sandbox/config.hpp"
#include "sandbox/sandbox_server.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::sandbox::testing {

using nlohmann::json;

class SandboxFixture {
 public:
  // With `tls` the sandbox listens on HTTPS and call() trusts its certificate as an extra CA.
  explicit SandboxFixture(SandboxConfig config = default_config(), std::string state_file = {},
                          std::optional<http::TlsServerConfig> tls = std::nullopt);
  ~SandboxFixture();

  // Sends a request; `auth` empty = no Authorization header, "default" = the fixture's token.
  http::Response call(const std::string& method, const std::string& target, const std::string& body = {},
                      const std::string& auth = "default", const std::string& content_type = "application/json");
  json call_json(const std::string& method, const std::string& target, const json& body = nullptr, int expect_status = 200);
  // Mints a token through /_sandbox/oauth/tokens.
  std::string mint_token(const json& request = json::object());

  ManualClock clock;
  std::unique_ptr<boost::asio::io_context> io;
  std::unique_ptr<SandboxServer> server;
  std::string base;
  std::string token;
  SandboxConfig config;
  http::ClientOptions client;  // what call() uses

 private:
  std::thread thread_;
  struct Guard;
  std::unique_ptr<Guard> guard_;
};

// The configuration tests use: high general limit so tests do not trip it by accident.
SandboxConfig test_config();

}  // namespace tandem::sandbox::testing
