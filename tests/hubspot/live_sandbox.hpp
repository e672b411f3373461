#pragma once
// A SandboxServer on 127.0.0.1:0 on the system clock, its io_context on a thread of its own, for
// tests where Tandem's writer and HubSpot's behaviour both run in real time (retries, settle
// delays, rate-limit windows). Inspection goes through the sandbox's /_sandbox/ API over HTTP.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_server.hpp"

#include "sandbox/config.hpp"
#include "sandbox/sandbox_server.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::testing {

class LiveSandbox {
 public:
  // With `tls`, the sandbox serves HTTPS only; base() is https://127.0.0.1:PORT and ca_pem() the
  // certificate to trust.
  explicit LiveSandbox(sandbox::SandboxConfig config, std::optional<http::TlsServerConfig> tls = std::nullopt);
  ~LiveSandbox();
  LiveSandbox(const LiveSandbox&) = delete;
  LiveSandbox& operator=(const LiveSandbox&) = delete;

  [[nodiscard]] const std::string& base() const { return base_; }
  [[nodiscard]] std::int64_t portal() const { return portal_; }
  [[nodiscard]] const std::string& ca_pem() const { return ca_pem_; }
  // A token pair for `portal` (0: the default portal) through /_sandbox/oauth/tokens.
  std::string mint_token(std::int64_t portal = 0, std::int64_t ttl_s = 3600);
  // POST /_sandbox/seed?portalId=; returns the answer.
  nlohmann::json seed(const nlohmann::json& seed, std::int64_t portal = 0);
  nlohmann::json snapshot();
  // PUT /_sandbox/faults {"rules": rules}; DELETE when empty.
  void set_faults(const nlohmann::json& rules);
  // PUT /_sandbox/limits.
  void set_limits(int ten_secondly, int search_per_second);
  // The contact ids of a portal, in id order, from the snapshot.
  std::vector<std::string> contact_ids(std::int64_t portal = 0);
  // Any call to the sandbox's /_sandbox/ API; REQUIREs the status.
  nlohmann::json call(const std::string& method, const std::string& target, const nlohmann::json& body, int expect);

 private:
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<sandbox::SandboxServer> server_;
  std::thread thread_;
  std::string base_;
  std::string ca_pem_;
  std::int64_t portal_ = 0;
};

}  // namespace tandem::testing
