#pragma once
// Helpers shared by the webhook and store tests: temporary directories, signed deliveries, a
// receiver served on 127.0.0.1:0, and a raw socket client for the paths a well-behaved HTTP client
// never takes (trickled headers).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"
#include "webhooks/config.hpp"
#include "webhooks/inbox.hpp"
#include "webhooks/receiver.hpp"

namespace tandem::testing {

inline constexpr const char* kTestSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
inline constexpr const char* kTestBaseUrl = "https://tandem.example.com";
inline constexpr const char* kTestAppId = "9393361";

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

webhooks::WebhooksConfig test_webhooks_config();

// One event object as HubSpot sends it (subscriptionType contact.propertyChange).
std::string event_json(std::int64_t event_id, std::int64_t object_id = 123, std::int64_t occurred_at = 1700000000000,
                       std::int64_t portal_id = 62515);
// The payload HubSpot would have sent for `e`: its typed fields as one JSON event object (the
// inbox stores the payload and parses the fields back from it).
std::string payload_of(const webhooks::Event& e);
// A JSON array of `count` events with event ids first_id, first_id + 1, ...
std::string events_body(int count, std::int64_t first_id = 1);

// A POST signed with v3 for `target` at wall time `now`.
http::Request signed_request(const std::string& body, Clock::WallTime now, const std::string& target = "/webhooks/hubspot",
                             const std::string& secret = kTestSecret, const std::string& base_url = kTestBaseUrl);

// io_context thread + HttpServer + WebhookReceiver over a caller-owned inbox.
class ReceiverHarness {
 public:
  ReceiverHarness(webhooks::Inbox& inbox, const Clock& clock, webhooks::WebhooksConfig config = test_webhooks_config());
  ~ReceiverHarness();
  [[nodiscard]] std::string origin() const;
  [[nodiscard]] std::uint16_t port() const;
  http::Response post(http::Request request) const;
  http::Response get(const std::string& target) const;
  // Sends all requests at once over one client (one connection each, in parallel); the statuses
  // in order, 0 for a request that got no response.
  std::vector<int> post_concurrently(std::vector<http::Request> requests) const;
  webhooks::WebhookReceiver& receiver() { return *receiver_; }
  MetricsRegistry& metrics() { return metrics_; }
  webhooks::WebhooksConfig& config() { return config_; }

 private:
  struct Io;
  webhooks::WebhooksConfig config_;
  MetricsRegistry metrics_;
  std::unique_ptr<webhooks::WebhookReceiver> receiver_;
  std::unique_ptr<Io> io_;
};

// Writes `bytes` to 127.0.0.1:port — the first `first_chunk` bytes at once, the rest one `chunk`
// every `gap` — then reads until the peer closes or `read_limit` passes; returns everything read
// (the raw HTTP response).
std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::size_t chunk, std::chrono::milliseconds gap,
                         std::chrono::milliseconds read_limit, std::size_t first_chunk = 0);
// The status code of a raw HTTP response, 0 when there is none.
int raw_status(const std::string& response);

// Extracts the value of a metric line ("name{labels} value") from /metrics text; -1 when absent.
double metric_value(const std::string& text, const std::string& series);

}  // namespace tandem::testing
