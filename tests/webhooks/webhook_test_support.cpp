#include "tests/webhooks/webhook_test_support.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <random>
#include <sstream>
#include <stdexcept>

#include "webhooks/signature.hpp"

namespace tandem::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tandem-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

webhooks::WebhooksConfig test_webhooks_config() {
  webhooks::WebhooksConfig c;
  c.public_base_url = kTestBaseUrl;
  c.client_secret = Secret(kTestSecret);
  c.app_id = kTestAppId;
  return c;
}

std::string event_json(std::int64_t event_id, std::int64_t object_id, std::int64_t occurred_at, std::int64_t portal_id) {
  std::ostringstream o;
  o << R"({"eventId":)" << event_id << R"(,"subscriptionId":7662269,"portalId":)" << portal_id
    << R"(,"appId":9393361,"occurredAt":)" << occurred_at
    << R"(,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":)" << object_id
    << R"(,"propertyName":"lifecyclestage","propertyValue":"lead","changeSource":"CRM_UI","sourceId":"userId:98499705"})";
  return o.str();
}

std::string payload_of(const webhooks::Event& e) {
  nlohmann::json j = {{"eventId", e.event_id},           {"subscriptionId", e.subscription_id},
                      {"portalId", e.portal_id},         {"appId", e.app_id},
                      {"occurredAt", e.occurred_at},     {"subscriptionType", e.subscription_type},
                      {"attemptNumber", e.attempt_number}, {"objectId", e.object_id},
                      {"changeSource", e.change_source}, {"sourceId", e.source_id}};
  if (e.property_name) j["propertyName"] = *e.property_name;
  if (e.property_value) j["propertyValue"] = *e.property_value;
  if (!e.object_type_id.empty()) j["objectTypeId"] = e.object_type_id;
  return j.dump();
}

webhooks::Event make_event(std::int64_t event_id, std::int64_t object_id, std::int64_t occurred_at,
                           std::int64_t portal_id) {
  webhooks::Event e;
  e.event_id = event_id;
  e.object_id = object_id;
  e.occurred_at = occurred_at;
  e.portal_id = portal_id;
  e.subscription_id = 25;
  e.subscription_type = "contact.propertyChange";
  e.property_name = "lifecyclestage";
  e.property_value = "lead";
  e.change_source = "CRM_UI";
  e.payload = testing::payload_of(e);
  return e;
}

std::string events_body(int count, std::int64_t first_id) {
  std::string body = "[";
  for (int i = 0; i < count; ++i) {
    if (i) body += ',';
    body += event_json(first_id + i, 1000 + first_id + i);
  }
  body += ']';
  return body;
}

http::Request signed_request(const std::string& body, Clock::WallTime now, const std::string& target,
                             const std::string& secret, const std::string& base_url) {
  http::Request r;
  r.method = "POST";
  r.target = target;
  r.body = body;
  const std::string ts = std::to_string(to_epoch_ms(now));
  r.headers.set("Content-Type", "application/json");
  r.headers.set("X-HubSpot-Request-Timestamp", ts);
  r.headers.set("X-HubSpot-Signature-v3",
                webhooks::sign_v3(secret, "POST", webhooks::hubspot_decode_uri(base_url + target), body, ts));
  return r;
}

ReceiverHarness::ReceiverHarness(webhooks::Inbox& inbox, const Clock& clock, webhooks::WebhooksConfig config)
    : config_(std::move(config)) {
  receiver_ = std::make_unique<webhooks::WebhookReceiver>(config_, inbox, clock, metrics_);
  connector::Service::Options options;
  options.server = webhooks::WebhookReceiver::server_options(config_, "127.0.0.1", 0);
  options.handle_signals = false;
  service_ = std::make_unique<connector::Service>(std::move(options), clock, metrics_);
  connector::add_webhook_intake(*service_, *receiver_, config_);
  thread_ = std::thread([this] { service_->run(); });
}

ReceiverHarness::~ReceiverHarness() {
  service_->stop();
  thread_.join();
  service_.reset();
  receiver_.reset();
}

std::string ReceiverHarness::origin() const { return service_->base_url(); }
std::uint16_t ReceiverHarness::port() const { return service_->port(); }

http::Response ReceiverHarness::post(http::Request request) const {
  http::ClientOptions options;
  options.request_timeout = std::chrono::seconds(20);
  auto result = http::fetch(origin(), std::move(request), options);
  if (!result) throw std::runtime_error("fetch failed: " + result.error().message);
  return std::move(*result);
}

http::Response ReceiverHarness::get(const std::string& target) const {
  http::Request r;
  r.method = "GET";
  r.target = target;
  return post(std::move(r));
}

std::vector<int> ReceiverHarness::post_concurrently(std::vector<http::Request> requests) const {
  boost::asio::io_context io;
  http::ClientOptions options;
  options.request_timeout = std::chrono::seconds(30);
  options.max_idle_per_origin = requests.size();
  http::HttpClient client(io, options);
  std::vector<int> statuses(requests.size(), 0);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    client.async_send(origin(), std::move(requests[i]), [&statuses, i](http::ClientResult result) {
      if (result) statuses[i] = result->status;
    });
  }
  io.run();
  return statuses;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes, std::size_t chunk, std::chrono::milliseconds gap,
                         std::chrono::milliseconds read_limit, std::size_t first_chunk) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  std::string response;
  auto read_available = [&](int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, timeout_ms) > 0) {
      char buffer[4096];
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      response.append(buffer, static_cast<std::size_t>(n));
      timeout_ms = 0;
    }
    return true;
  };
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t n = (i == 0 && first_chunk > 0) ? first_chunk : chunk;
    const std::string part = bytes.substr(i, n);
    i += n;
    if (::send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) break;
    if (!read_available(static_cast<int>(gap.count()))) break;
  }
  const auto deadline = std::chrono::steady_clock::now() + read_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

int raw_status(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

double metric_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace tandem::testing
