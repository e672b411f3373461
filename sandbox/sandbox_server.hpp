#pragma once
// `tandem sandbox`: a local server that answers like HubSpot for everything Tandem uses
// (hubspot-contract.md §12): OAuth, CRM contacts/tasks/associations/owners on the v3 and 2026-03
// paths, search, rate limits, signed webhook deliveries, fault injection, and an inspection API
// under /_sandbox/ that HubSpot does not have.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_server.hpp"
#include "common/result.hpp"
#include "common/tls_certificate.hpp"
#include "sandbox/config.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::sandbox {

struct SandboxRouter;

struct SandboxOptions {
  SandboxConfig config = default_config();
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  // Loaded at start when it exists, written by save_state(), stop() and POST /_sandbox/save.
  std::string state_file;
  // Time for token expiry, rate-limit windows and timestamps. Must outlive the server; null = system clock.
  const Clock* clock = nullptr;
  std::size_t body_limit = 256 * 1024 * 1024;
  // Set = the listener speaks TLS only and base_url() is https://. The PEM contents, not paths.
  std::optional<http::TlsServerConfig> tls;
};

// A fresh key and self-signed certificate for 127.0.0.1 and localhost (see
// http::make_self_signed_certificate), for `--tls-self-signed` and for tests: pass it as
// SandboxOptions::tls and give clients its certificate_chain_pem as their extra CA.
Result<http::TlsServerConfig, http::CertificateError> make_self_signed_certificate();

class SandboxServer {
 public:
  // Binds at once (throws std::system_error when the address is taken) and throws
  // std::runtime_error when the state file exists but cannot be loaded or the TLS material is
  // invalid. Serving starts when the io_context runs; the io_context must outlive the server.
  SandboxServer(boost::asio::io_context& io, SandboxOptions options);
  ~SandboxServer();
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] std::uint16_t port() const;
  // The start-up line: url, portal_id, app_id, client_id, client_secret, redirect_urls,
  // webhook_target_url, scopes, ...
  [[nodiscard]] nlohmann::json startup_info() const;

  // Loads a seed document into the default portal (see CrmState::seed); error text on failure.
  std::optional<std::string> seed(const nlohmann::json& seed);
  // Writes the state file (no-op without one); error text on failure.
  std::optional<std::string> save_state();
  // Stops accepting, cancels webhook retries and saves the state. Idempotent.
  void stop();

 private:
  std::shared_ptr<SandboxRouter> impl_;
};

}  // namespace tandem::sandbox
