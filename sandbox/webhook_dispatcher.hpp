#pragma once
// Delivers webhook events to the app's target URL as HubSpot does (contract §3): JSON arrays of
// at most 100 events, signed v1 and v3, at most maxConcurrentRequests in flight per portal, a
// 5 s timeout, up to 10 retries on any non-2xx or timeout with growing, jittered delays
// (HubSpot's ~24 h schedule multiplied by a time factor), attemptNumber incremented, and optional
// duplicate and out-of-order delivery. Thread-safe; callbacks run on the io_context's thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "sandbox/config.hpp"
#include "sandbox/crm_state.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::sandbox {

// HubSpot's request signatures (contract §3.4). v1: hex SHA-256 of secret + body. v3: Base64
// HMAC-SHA256 keyed with the secret over method + URI + body + timestamp, where the URI has the
// documented escapes (%3A, %2F, %3F, %40, %21, %24, %27, %28, %29, %2A, %2C, %3B) decoded.
std::string v3_signed_uri(std::string_view url);
std::string sign_v1(std::string_view secret, std::string_view body);
std::string sign_v3(std::string_view secret, std::string_view method, std::string_view url, std::string_view body,
                    std::string_view timestamp);

struct WebhookSettings {
  std::string target_url;
  int max_concurrent_requests = 10;
  std::vector<SubscriptionConfig> subscriptions;
};

class WebhookDispatcher {
 public:
  // The io_context must outlive the dispatcher; call stop() before destroying it.
  WebhookDispatcher(boost::asio::io_context& io, const Clock& clock, std::int64_t app_id, std::string client_secret,
                    WebhookSettings settings, DeliveryConfig delivery, std::uint64_t seed);
  ~WebhookDispatcher();

  // Turns matching change events into webhook events and schedules their delivery.
  void publish(const std::vector<ChangeEvent>& events);
  void set_settings(WebhookSettings settings);
  [[nodiscard]] WebhookSettings settings() const;
  void set_delivery(DeliveryConfig delivery);
  [[nodiscard]] DeliveryConfig delivery() const;
  // Attempts (oldest first) with sequence number > since.
  [[nodiscard]] nlohmann::json log(std::uint64_t since) const;
  [[nodiscard]] nlohmann::json status() const;
  void clear_log();
  // Cancels timers; pending deliveries are dropped.
  void stop();

  // The HubSpot retry schedule before the time factor, in milliseconds (10 entries, ~24 h).
  static const std::vector<std::int64_t>& base_retry_delays_ms();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tandem::sandbox
