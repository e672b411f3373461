#pragma once
// Helpers shared by the webhook, store and connector tests: temporary directories, signed
// deliveries, an inbox that can hold or fail commits, a receiver served by the connector's service
// on 127.0.0.1:0, and a raw socket client for the paths a well-behaved HTTP client never takes
// (trickled headers).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"
#include "connector/service.hpp"
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
// A contact.propertyChange event (lifecyclestage: lead) with its payload, for the inbox tests.
webhooks::Event make_event(std::int64_t event_id, std::int64_t object_id = 1, std::int64_t occurred_at = 1000,
                           std::int64_t portal_id = 62515);
// A JSON array of `count` events with event ids first_id, first_id + 1, ...
std::string events_body(int count, std::int64_t first_id = 1);

// A POST signed with v3 for `target` at wall time `now`.
http::Request signed_request(const std::string& body, Clock::WallTime now, const std::string& target = "/webhooks/hubspot",
                             const std::string& secret = kTestSecret, const std::string& base_url = kTestBaseUrl);

// Delegates to a real inbox, but can hold commits (to fill the queue, or to be inside one at
// shutdown) or fail them.
class ControlledInbox final : public webhooks::Inbox {
 public:
  using InboxError = webhooks::InboxError;
  explicit ControlledInbox(webhooks::Inbox& inner) : inner_(inner) {}
  Result<webhooks::Appended, InboxError> append_committed(
      std::span<const std::vector<webhooks::Event>* const> batches) override {
    {
      std::unique_lock lock(mutex_);
      ++appends_entered_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return !held_; });
      if (failing_) return InboxError{InboxError::Kind::kStorage, "disk I/O error"};
    }
    return inner_.append_committed(batches);
  }
  Result<void, InboxError> sync(webhooks::AppendTicket ticket) override {
    if (sync_failing_) return InboxError{InboxError::Kind::kStorage, "cannot flush the WAL: Input/output error"};
    return inner_.sync(ticket);
  }
  Result<std::vector<webhooks::StoredEvent>, InboxError> claim(std::size_t m, std::chrono::milliseconds l,
                                                               const std::string& c) override {
    return inner_.claim(m, l, c);
  }
  Result<void, InboxError> acknowledge(std::int64_t id, const std::string& c) override {
    return inner_.acknowledge(id, c);
  }
  Result<void, InboxError> acknowledge(UnitOfWork& u, std::int64_t id, const std::string& c) override {
    return inner_.acknowledge(u, id, c);
  }
  Result<void, InboxError> retry_later(std::int64_t id, const std::string& c, const std::string& r,
                                       std::chrono::milliseconds a) override {
    return inner_.retry_later(id, c, r, a);
  }
  Result<std::size_t, InboxError> replay(std::optional<std::int64_t> id, webhooks::EventState from) override {
    return inner_.replay(id, from);
  }
  Result<webhooks::InboxStats, InboxError> stats() override { return inner_.stats(); }
  Result<std::vector<webhooks::StoredEvent>, InboxError> list(const webhooks::ListFilter& f) override {
    return inner_.list(f);
  }
  bool writable() override { return !failing_ && inner_.writable(); }
  Result<std::size_t, InboxError> purge(std::chrono::milliseconds r) override { return inner_.purge(r); }

  void hold(bool on) {
    std::lock_guard lock(mutex_);
    held_ = on;
    changed_.notify_all();
  }
  void set_failing(bool on) {
    std::lock_guard lock(mutex_);
    failing_ = on;
  }
  void set_sync_failing(bool on) { sync_failing_ = on; }
  // False when fewer than n appends have started within the timeout.
  [[nodiscard]] bool wait_for_appends(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return appends_entered_ >= n; });
  }

 private:
  webhooks::Inbox& inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  std::atomic<bool> failing_{false};
  std::atomic<bool> sync_failing_{false};
  int appends_entered_ = 0;
};

// A WebhookReceiver over a caller-owned inbox, served by a connector::Service (as `tandem serve`
// composes them) that runs on a thread of its own.
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
  connector::Service& service() { return *service_; }
  MetricsRegistry& metrics() { return metrics_; }
  webhooks::WebhooksConfig& config() { return config_; }

 private:
  webhooks::WebhooksConfig config_;
  MetricsRegistry metrics_;
  std::unique_ptr<webhooks::WebhookReceiver> receiver_;
  std::unique_ptr<connector::Service> service_;
  std::thread thread_;
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
