// The connector's service: routing to the handlers components register, the built-in probes,
// background jobs on a manual clock, and the shutdown order.

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "connector/service.hpp"
#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/webhooks/webhook_test_support.hpp"
#include "webhooks/receiver.hpp"

using namespace tandem;
using namespace tandem::testing;
using namespace std::chrono_literals;
using connector::Service;

namespace {

Service::Options test_options() {
  Service::Options options;
  options.handle_signals = false;
  options.job_tick = 5ms;
  return options;
}

// Runs a service, registered beforehand, on a thread of its own; `returned` is ready once run()
// has returned and `after_run` (what the owner does next, e.g. close the store) has run.
class ServiceThread {
 public:
  explicit ServiceThread(Service& service, std::function<void()> after_run = {}) : service_(service) {
    returned = returned_.get_future();
    thread_ = std::thread([this, after_run = std::move(after_run)] {
      service_.run();
      if (after_run) after_run();
      returned_.set_value();
    });
  }
  ~ServiceThread() {
    service_.stop();
    thread_.join();
  }
  std::future<void> returned;

 private:
  Service& service_;
  std::promise<void> returned_;
  std::thread thread_;
};

// Runs `f` when the scope ends, so that a failed REQUIRE does not leave a thread blocked.
class AtExit {
 public:
  explicit AtExit(std::function<void()> f) : f_(std::move(f)) {}
  ~AtExit() { f_(); }
  AtExit(const AtExit&) = delete;
  AtExit& operator=(const AtExit&) = delete;

 private:
  std::function<void()> f_;
};

http::Response send(const Service& service, const std::string& method, const std::string& target) {
  http::Request request;
  request.method = method;
  request.target = target;
  auto result = http::fetch(service.base_url(), std::move(request));
  if (!result) throw std::runtime_error("fetch failed: " + result.error().message);
  return std::move(*result);
}

http::Handler answering(std::string text) {
  return http::sync_handler(
      [text](const http::Request& r) { return http::Response::text(200, text + " " + r.target); });
}

}  // namespace

TEST_CASE("routes registered by two components are both served, and other paths get 404") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  // One component with an exact path, another with a prefix and an exact path under it.
  service.add_route("/webhooks/hubspot", answering("webhooks"));
  service.add_prefix_route("/oauth/", answering("oauth"));
  service.add_prefix_route("/oauth/callback/", answering("callback"));
  service.add_route("/oauth/install", answering("install"));
  CHECK_THROWS_AS(service.add_route("/webhooks/hubspot", answering("again")), std::invalid_argument);
  CHECK_THROWS_AS(service.add_route("/readyz", answering("mine")), std::invalid_argument);
  CHECK_THROWS_AS(service.add_prefix_route("/oauth/", answering("again")), std::invalid_argument);
  CHECK_THROWS_AS(service.add_route("relative", answering("no")), std::invalid_argument);
  ServiceThread running(service);

  CHECK(send(service, "POST", "/webhooks/hubspot?x=1").body == "webhooks /webhooks/hubspot?x=1");
  CHECK(send(service, "GET", "/oauth/start").body == "oauth /oauth/start");
  CHECK(send(service, "GET", "/oauth/callback/abc").body == "callback /oauth/callback/abc");
  CHECK(send(service, "GET", "/oauth/install").body == "install /oauth/install");
  CHECK(send(service, "GET", "/healthz").body == "ok\n");

  auto missing = send(service, "GET", "/webhooks/hubspot/more");
  CHECK(missing.status == 404);
  CHECK(nlohmann::json::parse(missing.body) == nlohmann::json{{"status", "error"}, {"message", "not found"}});
  CHECK(send(service, "POST", "/nothere").status == 404);
  CHECK(send(service, "GET", "/oauth").status == 404);
  auto wrong_method = send(service, "POST", "/healthz");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers.get("Allow") == std::optional<std::string_view>("GET, HEAD"));
  CHECK(send(service, "DELETE", "/metrics").status == 405);
}

TEST_CASE("/readyz turns 503 when a registered check fails, and names it") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  std::atomic<bool> accounts_ok{true};
  std::atomic<bool> rules_ok{true};
  service.add_readiness_check("oauth_accounts", [&] { return accounts_ok.load(); });
  service.add_readiness_check("rules_loaded", [&] { return rules_ok.load(); });
  CHECK_THROWS_AS(service.add_readiness_check("rules_loaded", [] { return true; }), std::invalid_argument);
  ServiceThread running(service);

  auto ready = send(service, "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(nlohmann::json::parse(ready.body) ==
        nlohmann::json{{"listener", true}, {"oauth_accounts", true}, {"rules_loaded", true}});
  rules_ok = false;
  auto unready = send(service, "GET", "/readyz");
  CHECK(unready.status == 503);
  CHECK(nlohmann::json::parse(unready.body) ==
        nlohmann::json{{"listener", true}, {"oauth_accounts", true}, {"rules_loaded", false}});
  CHECK(metric_value(metrics.render(), R"(tandem_readiness_check_passing{check="rules_loaded"})") == 0);
  CHECK(metric_value(metrics.render(), R"(tandem_readiness_check_passing{check="oauth_accounts"})") == 1);
  rules_ok = true;
  CHECK(send(service, "GET", "/readyz").status == 200);

  service.stop();
  running.returned.get();
  auto stopped = service.readiness();
  CHECK(stopped.status == 503);
  CHECK(nlohmann::json::parse(stopped.body).at("listener") == false);
}

TEST_CASE("/metrics renders the registry after every registered refresh") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  Gauge& depth = metrics.gauge("tandem_test_depth", "A gauge read from elsewhere");
  std::atomic<int> refreshes{0};
  service.add_metrics_refresh([&] { depth.set(++refreshes * 10.0); });
  service.add_metrics_refresh([] { throw std::runtime_error("store unavailable"); });
  ServiceThread running(service);

  auto first = send(service, "GET", "/metrics");
  CHECK(first.status == 200);
  CHECK(first.headers.get("Content-Type")->find("text/plain; version=0.0.4") == 0);
  CHECK(metric_value(first.body, "tandem_test_depth") == 10);
  CHECK(metric_value(send(service, "GET", "/metrics").body, "tandem_test_depth") == 20);
}

TEST_CASE("a job runs at the first tick after its interval has passed on the clock") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  std::promise<void> first_run;
  std::atomic<int> runs{0};
  service.add_job("probe", 1h, [&] {
    if (++runs == 1) first_run.set_value();
  });
  ServiceThread running(service);
  auto ran = first_run.get_future();
  REQUIRE(send(service, "GET", "/healthz").status == 200);  // serving: the job's interval has started
  clock.advance(1h);
  REQUIRE(ran.wait_for(10s) == std::future_status::ready);
  CHECK(runs == 1);
}

TEST_CASE("the inbox purge runs on its interval") {
  TempDir dir;
  ManualClock clock{std::chrono::system_clock::now()};
  store::StoreConfig store_config;
  store_config.path = dir.file("inbox.db");
  testing::FileInbox inbox(store_config, clock);
  MetricsRegistry metrics;
  webhooks::WebhooksConfig config = test_webhooks_config();
  config.purge_interval = 1h;
  webhooks::WebhookReceiver receiver(config, inbox, clock, metrics);
  Service::Options options = test_options();
  // Only run_due_jobs() starts the job: the ticks stay out of the way of the counts below.
  options.job_tick = 1h;
  options.server = webhooks::WebhookReceiver::server_options(config, "127.0.0.1", 0);
  Service service(std::move(options), clock, metrics);
  connector::add_webhook_intake(service, receiver, config);
  ServiceThread running(service);

  http::Request delivery = signed_request(events_body(2, 1), clock.now());
  auto answer = http::fetch(service.base_url(), delivery);
  REQUIRE(answer.has_value());
  REQUIRE(answer->status == 200);
  auto claimed = testing::ok(inbox.claim(1, 30s, "w"));
  REQUIRE(inbox.acknowledge(claimed[0].id, "w"));
  auto counts = [&] {
    const std::string text = metrics.render();
    return std::pair{metric_value(text, R"(tandem_background_job_runs_total{job="inbox_purge"})"),
                     metric_value(text, "tandem_inbox_purged_events_total")};
  };

  clock.advance(59min);
  service.run_due_jobs().get();
  CHECK(counts() == std::pair{0.0, 0.0});  // not due yet
  clock.advance(71h - 59min);
  service.run_due_jobs().get();
  CHECK(counts() == std::pair{1.0, 0.0});  // ran, but nothing is past the 72 h retention
  clock.advance(30min);
  service.run_due_jobs().get();
  CHECK(counts() == std::pair{1.0, 0.0});  // half an interval after the last run
  clock.advance(30min + 1s);
  service.run_due_jobs().get();
  CHECK(counts() == std::pair{2.0, 1.0});
  CHECK(testing::ok(inbox.list({.limit = 10})).size() == 1);  // the unprocessed event stays
}

TEST_CASE("stop answers the deliveries being committed before run() returns and the store may close") {
  TempDir dir;
  ManualClock clock{std::chrono::system_clock::now()};
  store::StoreConfig store_config;
  store_config.path = dir.file("inbox.db");
  testing::FileInbox inbox(store_config, clock);
  ControlledInbox controlled(inbox);
  MetricsRegistry metrics;
  webhooks::WebhooksConfig config = test_webhooks_config();
  webhooks::WebhookReceiver receiver(config, controlled, clock, metrics);
  Service::Options options = test_options();
  options.server = webhooks::WebhookReceiver::server_options(config, "127.0.0.1", 0);
  Service service(std::move(options), clock, metrics);
  connector::add_webhook_intake(service, receiver, config);
  // What the store's owner would find when run() returns and it destroys the store.
  std::atomic<std::size_t> stored_at_return{0};
  ServiceThread running(service, [&] { stored_at_return = testing::ok(inbox.list({.limit = 10})).size(); });
  auto& returned = running.returned;

  std::future<http::ClientResult> delivery;  // destroyed after `unhold`: it waits for the answer
  controlled.hold(true);
  AtExit unhold([&] { controlled.hold(false); });
  delivery = std::async(std::launch::async,
                        [&] { return http::fetch(service.base_url(), signed_request(events_body(3), clock.now())); });
  REQUIRE(controlled.wait_for_appends(1));  // the committer is inside the transaction with it
  service.stop();
  service.stop();  // idempotent
  // Not before the transaction is over.
  CHECK(returned.wait_for(200ms) == std::future_status::timeout);
  // No longer accepting.
  http::ClientOptions quick;
  quick.request_timeout = 2s;
  auto late = http::fetch(service.base_url(), signed_request(events_body(1, 10), clock.now()), quick);
  CHECK(late.has_error());

  controlled.hold(false);
  auto answered = delivery.get();
  REQUIRE(answered.has_value());
  CHECK(answered->status == 200);
  REQUIRE(returned.wait_for(20s) == std::future_status::ready);
  CHECK(stored_at_return == 3);
}

TEST_CASE("stop lets a running job finish before run() returns, and starts no other") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> was_released{false};
  auto release_job = [&] {
    if (!was_released.exchange(true)) release.set_value();
  };
  std::atomic<int> runs{0};
  std::atomic<bool> finished{false};
  service.add_job("slow", 1h, [&] {
    if (++runs > 1) return;
    entered.set_value();
    released.wait();
    finished = true;
  });
  std::atomic<bool> finished_before_return{false};
  ServiceThread running(service, [&] { finished_before_return = finished.load(); });
  auto& returned = running.returned;
  AtExit unblock(release_job);
  REQUIRE(send(service, "GET", "/healthz").status == 200);  // serving: the job's interval has started
  clock.advance(1h);
  auto job_done = service.run_due_jobs();
  entered.get_future().get();
  service.stop();
  CHECK(returned.wait_for(200ms) == std::future_status::timeout);
  clock.advance(5h);  // due again, but the jobs have stopped
  release_job();
  job_done.get();
  REQUIRE(returned.wait_for(20s) == std::future_status::ready);
  CHECK(finished_before_return);
  CHECK(runs == 1);
}

TEST_CASE("drains run once, in reverse order, after the listener stopped and before run() returns") {
  ManualClock clock;
  MetricsRegistry metrics;
  Service service(test_options(), clock, metrics);
  std::mutex mutex;
  std::vector<std::string> order;
  auto record = [&](std::string what) {
    std::lock_guard lock(mutex);
    order.push_back(std::move(what));
  };
  service.add_drain([&] { record(service.readiness().status == 503 ? "first, not ready" : "first, still ready"); });
  service.add_drain([&] { record("second"); });
  {
    ServiceThread running(service);
    REQUIRE(send(service, "GET", "/healthz").status == 200);
    service.stop();
    running.returned.get();
    record("returned");
  }
  CHECK(order == std::vector<std::string>{"second", "first, not ready", "returned"});
}

TEST_CASE("requests the HTTP layer refuses are counted on /metrics, and the webhook listener's 503 advertises its Retry-After") {
  ManualClock clock;
  MetricsRegistry metrics;
  webhooks::WebhooksConfig config = test_webhooks_config();
  config.body_limit = 64;
  config.retry_after_seconds = 7;
  Service::Options options = test_options();
  options.server = webhooks::WebhookReceiver::server_options(config, "127.0.0.1", 0);
  CHECK(options.server.retry_after_seconds == 7);
  Service service(std::move(options), clock, metrics);
  service.add_route("/webhooks/hubspot", answering("webhooks"));
  ServiceThread running(service);

  http::Request big;
  big.method = "POST";
  big.target = "/webhooks/hubspot";
  big.body = std::string(1000, 'x');
  auto result = http::fetch(service.base_url(), std::move(big));
  REQUIRE(result.has_value());
  CHECK(result->status == 413);
  auto m = send(service, "GET", "/metrics");
  CHECK(metric_value(m.body, R"(tandem_http_rejected_total{reason="body_too_large",status="413"})") == 1);
}
