#include "sandbox/webhook_dispatcher.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "common/log.hpp"
#include "sandbox/wire.hpp"

namespace tandem::sandbox {

namespace {

struct Delivery {
  std::uint64_t id;
  std::int64_t portal_id;
  std::vector<nlohmann::json> events;
  int attempt = 0;
  bool duplicate = false;  // a deliberate re-send; never duplicated again
};

// "http://host:port/path?q" -> origin "http://host:port", target "/path?q".
bool split_url(const std::string& url, std::string& origin, std::string& target) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  auto slash = url.find('/', scheme + 3);
  origin = url.substr(0, slash);
  target = slash == std::string::npos ? "/" : url.substr(slash);
  return origin.size() > scheme + 3;
}

}  // namespace

std::string v3_signed_uri(std::string_view url) {
  static const std::pair<std::string_view, char> kTable[] = {{"3A", ':'}, {"2F", '/'}, {"3F", '?'}, {"40", '@'},
                                                            {"21", '!'}, {"24", '$'}, {"27", '\''}, {"28", '('},
                                                            {"29", ')'}, {"2A", '*'}, {"2C", ','}, {"3B", ';'}};
  std::string out;
  for (std::size_t i = 0; i < url.size(); ++i) {
    if (url[i] == '%' && i + 2 < url.size()) {
      std::string hex{static_cast<char>(std::toupper(static_cast<unsigned char>(url[i + 1]))),
                      static_cast<char>(std::toupper(static_cast<unsigned char>(url[i + 2])))};
      bool replaced = false;
      for (const auto& [code, ch] : kTable) {
        if (code == hex) {
          out += ch;
          i += 2;
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += url[i];
  }
  return out;
}

std::string sign_v1(std::string_view secret, std::string_view body) {
  return crypto::to_hex(crypto::sha256(std::string(secret) + std::string(body)));
}

std::string sign_v3(std::string_view secret, std::string_view method, std::string_view url, std::string_view body,
                    std::string_view timestamp) {
  std::string source = std::string(method) + v3_signed_uri(url) + std::string(body) + std::string(timestamp);
  return crypto::base64_encode(crypto::hmac_sha256(secret, source));
}

const std::vector<std::int64_t>& WebhookDispatcher::base_retry_delays_ms() {
  static const std::vector<std::int64_t> kDelays = {60'000,    120'000,   300'000,    600'000,    1'800'000,
                                                    3'600'000, 7'200'000, 14'400'000, 28'800'000, 30'000'000};
  return kDelays;
}

struct WebhookDispatcher::State : std::enable_shared_from_this<WebhookDispatcher::State> {
  State(boost::asio::io_context& io, const Clock& clock, std::int64_t app_id, std::string secret, WebhookSettings s,
        DeliveryConfig d, std::uint64_t seed)
      : io(io),
        clock(clock),
        app_id(app_id),
        secret(std::move(secret)),
        settings(std::move(s)),
        delivery(d),
        client(io, make_options(d)),
        rng(seed) {}

  static http::ClientOptions make_options(const DeliveryConfig& d) {
    http::ClientOptions o;
    o.request_timeout = std::chrono::milliseconds(d.timeout_ms);
    o.connect_timeout = std::chrono::milliseconds(d.timeout_ms);
    o.user_agent = "HubSpot Connect 2.0 (http://dev.hubspot.com/) (tandem sandbox)";
    return o;
  }

  boost::asio::io_context& io;
  const Clock& clock;
  std::int64_t app_id;
  std::string secret;
  mutable std::mutex mutex;
  WebhookSettings settings;
  DeliveryConfig delivery;
  http::HttpClient client;
  std::mt19937_64 rng;
  Logger log{"sandbox.webhooks"};
  bool stopped = false;
  std::uint64_t next_event_id = 1;
  std::uint64_t next_delivery_id = 1;
  std::uint64_t next_log_seq = 1;
  std::map<std::int64_t, std::deque<nlohmann::json>> pending;  // events not yet in a request
  std::map<std::int64_t, std::deque<Delivery>> ready;          // deliveries waiting for a slot
  std::map<std::int64_t, int> in_flight;
  std::set<std::shared_ptr<boost::asio::steady_timer>> timers;
  std::deque<nlohmann::json> attempts;  // the delivery log
  bool flush_posted = false;
  std::uint64_t delivered = 0, failed_attempts = 0, gave_up = 0;

  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  void post_flush() {
    if (flush_posted || stopped) return;
    flush_posted = true;
    boost::asio::post(io, [self = shared_from_this()] {
      std::unique_lock lock(self->mutex);
      self->flush_posted = false;
      self->flush(lock);
    });
  }

  // Starts as many requests as the concurrency limit allows. Called with the mutex held.
  void flush(std::unique_lock<std::mutex>& lock) {
    if (stopped) return;
    std::vector<Delivery> to_send;
    std::set<std::int64_t> portals;
    for (auto& [p, q] : pending) portals.insert(p);
    for (auto& [p, q] : ready) portals.insert(p);
    for (auto portal : portals) {
      auto& rq = ready[portal];
      auto& pq = pending[portal];
      while (in_flight[portal] < settings.max_concurrent_requests) {
        Delivery d;
        if (!rq.empty()) {
          d = std::move(rq.front());
          rq.pop_front();
        } else if (!pq.empty()) {
          d.id = next_delivery_id++;
          d.portal_id = portal;
          std::size_t n = std::min<std::size_t>(pq.size(), static_cast<std::size_t>(delivery.max_events_per_request));
          for (std::size_t i = 0; i < n; ++i) {
            d.events.push_back(std::move(pq.front()));
            pq.pop_front();
          }
          if (delivery.out_of_order_probability > 0 && d.events.size() > 1 && uniform() < delivery.out_of_order_probability) {
            std::shuffle(d.events.begin(), d.events.end(), rng);
          }
        } else {
          break;
        }
        ++in_flight[portal];
        to_send.push_back(std::move(d));
      }
    }
    if (settings.target_url.empty()) {
      for (auto& d : to_send) --in_flight[d.portal_id];
      return;
    }
    std::string target_url = settings.target_url;
    lock.unlock();
    for (auto& d : to_send) send(std::move(d), target_url);
    lock.lock();
  }

  void send(Delivery d, const std::string& url) {
    nlohmann::json body = nlohmann::json::array();
    for (auto e : d.events) {
      e["attemptNumber"] = d.attempt;
      body.push_back(std::move(e));
    }
    std::string raw = body.dump();
    std::string timestamp = std::to_string(to_epoch_ms(clock.now()));
    http::Request req;
    req.method = "POST";
    std::string origin;
    if (!split_url(url, origin, req.target)) {
      log.warn("invalid webhook target URL", {{"url", url}});
      return;
    }
    req.headers.set("Content-Type", "application/json");
    req.headers.set("X-HubSpot-Signature", sign_v1(secret, raw));
    req.headers.set("X-HubSpot-Signature-Version", "v1");
    req.headers.set("X-HubSpot-Signature-v3", sign_v3(secret, "POST", url, raw, timestamp));
    req.headers.set("X-HubSpot-Request-Timestamp", timestamp);
    req.body = raw;
    auto started = to_epoch_ms(clock.now());
    auto steady_start = std::chrono::steady_clock::now();
    client.async_send(origin, std::move(req),
                      [self = shared_from_this(), d = std::move(d), started, steady_start](http::ClientResult result) mutable {
                        self->on_result(std::move(d), started, steady_start, std::move(result));
                      });
  }

  void on_result(Delivery d, std::int64_t started, std::chrono::steady_clock::time_point steady_start,
                 http::ClientResult result) {
    std::unique_lock lock(mutex);
    --in_flight[d.portal_id];
    if (stopped) return;
    nlohmann::json entry = {{"seq", next_log_seq++},
                            {"deliveryId", d.id},
                            {"portalId", d.portal_id},
                            {"attemptNumber", d.attempt},
                            {"eventCount", d.events.size()},
                            {"duplicate", d.duplicate},
                            {"startedAt", started},
                            {"durationMs", std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - steady_start)
                                               .count()}};
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& e : d.events) ids.push_back(e["eventId"]);
    entry["eventIds"] = ids;
    bool ok = false;
    if (result) {
      entry["status"] = result->status;
      ok = result->status >= 200 && result->status < 300;
    } else {
      const http::ClientError e = result.error();
      entry["status"] = nullptr;
      entry["error"] = std::string(http::to_string(e.kind)) + ": " + e.message;
    }
    if (ok) {
      entry["outcome"] = "delivered";
      ++delivered;
      if (!d.duplicate && delivery.duplicate_probability > 0 && uniform() < delivery.duplicate_probability) {
        Delivery dup = d;
        dup.duplicate = true;
        dup.id = next_delivery_id++;
        ready[d.portal_id].push_back(std::move(dup));
        entry["duplicateScheduled"] = true;
      }
    } else {
      ++failed_attempts;
      const auto& delays = base_retry_delays_ms();
      if (d.attempt < delivery.max_retries) {
        std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(d.attempt), delays.size() - 1);
        double jitter = 0.8 + 0.4 * uniform();
        auto delay = std::chrono::microseconds(
            static_cast<std::int64_t>(static_cast<double>(delays[i]) * 1000.0 * jitter * delivery.time_factor));
        entry["outcome"] = "retry_scheduled";
        entry["retryInMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
        ++d.attempt;
        schedule_retry(std::move(d), delay);
      } else {
        entry["outcome"] = "gave_up";
        ++gave_up;
        log.warn("webhook delivery abandoned after retries", {{"deliveryId", d.id}, {"attempts", d.attempt + 1}});
      }
    }
    attempts.push_back(std::move(entry));
    while (attempts.size() > 10'000) attempts.pop_front();
    flush(lock);
  }

  void schedule_retry(Delivery d, std::chrono::microseconds delay) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io, delay);
    timers.insert(timer);
    timer->async_wait([self = shared_from_this(), timer, d = std::move(d)](boost::system::error_code ec) mutable {
      std::unique_lock lock(self->mutex);
      self->timers.erase(timer);
      if (ec || self->stopped) return;
      self->ready[d.portal_id].push_back(std::move(d));
      self->flush(lock);
    });
  }

  nlohmann::json make_event(const ChangeEvent& c, const SubscriptionConfig& s) {
    nlohmann::json e = {{"eventId", next_event_id++},
                        {"subscriptionId", s.id},
                        {"portalId", c.portal_id},
                        {"appId", app_id},
                        {"occurredAt", c.occurred_ms},
                        {"subscriptionType", s.subscription_type},
                        {"attemptNumber", 0},
                        {"objectId", c.object_id},
                        {"changeSource", c.change_source}};
    if (!c.source_id.empty()) e["sourceId"] = c.source_id;
    if (c.kind == ChangeEvent::Kind::kCreation) e["changeFlag"] = "CREATED";
    if (c.kind == ChangeEvent::Kind::kPropertyChange) {
      e["propertyName"] = c.property_name;
      e["propertyValue"] = c.property_value;
    }
    // Merge events' extra fields (contract §3.2); the surviving record keeps its id here, so
    // newObjectId is the primary's (whether HubSpot mints a new id is not confirmed).
    if (c.kind == ChangeEvent::Kind::kMerge) {
      e["primaryObjectId"] = c.object_id;
      e["mergedObjectIds"] = c.merged_ids;
      e["newObjectId"] = c.object_id;
      e["numberOfPropertiesMoved"] = c.properties_moved;
    }
    if (s.subscription_type.starts_with("object.")) {
      e["objectTypeId"] = std::string(object_type_id(c.object_type));
      e["isSensitive"] = false;
    }
    return e;
  }
};

WebhookDispatcher::WebhookDispatcher(boost::asio::io_context& io, const Clock& clock, std::int64_t app_id,
                                     std::string client_secret, WebhookSettings settings, DeliveryConfig delivery,
                                     std::uint64_t seed)
    : state_(std::make_shared<State>(io, clock, app_id, std::move(client_secret), std::move(settings), delivery, seed)) {}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

void WebhookDispatcher::publish(const std::vector<ChangeEvent>& events) {
  std::unique_lock lock(state_->mutex);
  bool any = false;
  for (const auto& c : events) {
    if (c.object_type != ObjectType::kContact) continue;
    for (const auto& s : state_->settings.subscriptions) {
      if (!s.active) continue;
      bool match = false;
      switch (c.kind) {
        case ChangeEvent::Kind::kCreation:
          match = s.subscription_type == "contact.creation" || s.subscription_type == "object.creation";
          break;
        case ChangeEvent::Kind::kDeletion:
          match = s.subscription_type == "contact.deletion" || s.subscription_type == "object.deletion";
          break;
        case ChangeEvent::Kind::kMerge:
          match = s.subscription_type == "contact.merge" || s.subscription_type == "object.merge";
          break;
        case ChangeEvent::Kind::kPropertyChange:
          match = (s.subscription_type == "contact.propertyChange" || s.subscription_type == "object.propertyChange") &&
                  s.property_name == c.property_name;
          break;
      }
      if (!match) continue;
      state_->pending[c.portal_id].push_back(state_->make_event(c, s));
      any = true;
    }
  }
  if (any) state_->post_flush();
}

void WebhookDispatcher::set_settings(WebhookSettings settings) {
  std::unique_lock lock(state_->mutex);
  state_->settings = std::move(settings);
  state_->post_flush();
}

WebhookSettings WebhookDispatcher::settings() const {
  std::unique_lock lock(state_->mutex);
  return state_->settings;
}

void WebhookDispatcher::set_delivery(DeliveryConfig delivery) {
  std::unique_lock lock(state_->mutex);
  state_->delivery = delivery;
}

DeliveryConfig WebhookDispatcher::delivery() const {
  std::unique_lock lock(state_->mutex);
  return state_->delivery;
}

nlohmann::json WebhookDispatcher::log(std::uint64_t since) const {
  std::unique_lock lock(state_->mutex);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : state_->attempts)
    if (a["seq"].get<std::uint64_t>() > since) out.push_back(a);
  return out;
}

nlohmann::json WebhookDispatcher::status() const {
  std::unique_lock lock(state_->mutex);
  std::size_t pending = 0, ready = 0, in_flight = 0;
  for (const auto& [p, q] : state_->pending) pending += q.size();
  for (const auto& [p, q] : state_->ready) ready += q.size();
  for (const auto& [p, n] : state_->in_flight) in_flight += static_cast<std::size_t>(n);
  return {{"pendingEvents", pending},         {"readyDeliveries", ready},
          {"inFlight", in_flight},            {"retriesWaiting", state_->timers.size()},
          {"delivered", state_->delivered},   {"failedAttempts", state_->failed_attempts},
          {"gaveUp", state_->gave_up}};
}

void WebhookDispatcher::clear_log() {
  std::unique_lock lock(state_->mutex);
  state_->attempts.clear();
}

void WebhookDispatcher::stop() {
  std::unique_lock lock(state_->mutex);
  state_->stopped = true;
  for (const auto& t : state_->timers) t->cancel();
  state_->timers.clear();
  state_->pending.clear();
  state_->ready.clear();
}

}  // namespace tandem::sandbox
