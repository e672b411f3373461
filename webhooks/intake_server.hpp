#pragma once
// The webhook listener as one runnable piece: an HttpServer on its own io_context thread (the
// caller's), the WebhookReceiver and its committer, and graceful shutdown on SIGINT/SIGTERM.
// `tandem serve` composes it; tests run it in a child process to kill it with SIGKILL.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"
#include "webhooks/config.hpp"
#include "webhooks/inbox.hpp"

namespace tandem::webhooks {

class IntakeServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0 picks a free port
    bool handle_signals = true;
    std::optional<http::TlsServerConfig> tls;  // HTTPS when set
  };

  // Binds at once (throws std::system_error when the address is taken: a start-up error).
  // config, inbox, clock and metrics must outlive the server.
  IntakeServer(const WebhooksConfig& config, Inbox& inbox, const Clock& clock, MetricsRegistry& metrics,
               Options options);
  ~IntakeServer();
  IntakeServer(const IntakeServer&) = delete;
  IntakeServer& operator=(const IntakeServer&) = delete;

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] std::string base_url() const;

  // Serves on the calling thread until stop() or a signal. Shutdown in reverse order: stop
  // accepting, commit and answer every queued delivery, let in-flight responses be written, return.
  void run();
  // Thread-safe, idempotent.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tandem::webhooks
