#pragma once
// The write path as one piece: the HTTP client (TLS, keep-alive pool per host), the per-account
// rate limiter, the typed HubSpot client and the outbox writer, composed on one io_context over
// an Outbox and a TokenSource. `tandem serve` (with the pipeline), the write-path tests and the
// benchmark build it the same way.

#include <memory>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "hubspot/client.hpp"
#include "hubspot/config.hpp"
#include "hubspot/outbox.hpp"
#include "hubspot/outbox_writer.hpp"
#include "hubspot/rate_limiter.hpp"
#include "hubspot/token_source.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::connector {

class Service;

struct WritePathOptions {
  http::ClientOptions http;
  hubspot::ClientConfig client;
  hubspot::RateLimits limits;
  hubspot::WriterConfig writer;
};

class WritePath {
 public:
  // Everything given must outlive the write path; use it from io's thread (start() before run).
  WritePath(boost::asio::io_context& io, hubspot::Outbox& outbox, hubspot::TokenSource& tokens, MetricsRegistry& metrics,
            const Clock& clock, WritePathOptions options);
  ~WritePath();
  WritePath(const WritePath&) = delete;
  WritePath& operator=(const WritePath&) = delete;

  hubspot::HubSpotClient& client() { return *client_; }
  hubspot::OutboxWriter& writer() { return *writer_; }
  hubspot::AccountRateLimiter& limiter() { return *limiter_; }

 private:
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<hubspot::AccountRateLimiter> limiter_;
  std::unique_ptr<hubspot::HubSpotClient> client_;
  std::unique_ptr<hubspot::OutboxWriter> writer_;
};

// The outbox in the service: its gauges on /metrics (per account and lane: items pending and dead,
// age of the oldest pending item) and the purge of written tasks and old keys after
// config.retention, hourly. outbox and metrics must outlive the service.
void add_outbox(Service& service, hubspot::Outbox& outbox, MetricsRegistry& metrics, const Clock& clock,
                const hubspot::OutboxConfig& config);

}  // namespace tandem::connector
