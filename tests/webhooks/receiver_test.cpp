#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include <nlohmann/json.hpp>

#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/webhooks/webhook_test_support.hpp"
#include "webhooks/signature.hpp"

using namespace tandem;
using namespace tandem::webhooks;
using namespace tandem::testing;
using namespace std::chrono_literals;

namespace {

// Real time: the HTTP client and server run on real sockets, the receiver's clock is manual.
struct Fixture {
  TempDir dir;
  ManualClock clock{std::chrono::system_clock::now()};
  store::StoreConfig store_config;
  std::unique_ptr<testing::FileInbox> inbox;
  Fixture() {
    store_config.path = dir.file("inbox.db");
    inbox = std::make_unique<testing::FileInbox>(store_config, clock);
  }
  std::int64_t stored() { return static_cast<std::int64_t>(testing::ok(inbox->list({.limit = 100000})).size()); }
};

nlohmann::json json_of(const http::Response& r) { return nlohmann::json::parse(r.body); }

}  // namespace

TEST_CASE("a signed delivery is stored, then answered 200, and a redelivery is a duplicate") {
  Fixture f;
  ReceiverHarness h(*f.inbox, f.clock);
  auto r = h.post(signed_request(events_body(3), f.clock.now()));
  REQUIRE(r.status == 200);
  CHECK(json_of(r) == nlohmann::json{{"stored", 3}, {"duplicates", 0}});
  CHECK(f.stored() == 3);

  // HubSpot retries with a new timestamp and attemptNumber; the event keys are unchanged.
  f.clock.advance(2min);
  std::string retry = events_body(3);
  for (std::size_t p = 0; (p = retry.find("\"attemptNumber\":0", p)) != std::string::npos; ++p) retry[p + 16] = '1';
  r = h.post(signed_request(retry, f.clock.now()));
  REQUIRE(r.status == 200);
  CHECK(json_of(r) == nlohmann::json{{"stored", 0}, {"duplicates", 3}});
  CHECK(f.stored() == 3);
  // An empty array is a valid delivery.
  CHECK(h.post(signed_request("[]", f.clock.now())).status == 200);
}

TEST_CASE("bad deliveries get the right status and nothing is stored") {
  Fixture f;
  ReceiverHarness h(*f.inbox, f.clock);
  const std::string body = events_body(2);
  const auto now = f.clock.now();

  SECTION("no signature") {
    http::Request r = signed_request(body, now);
    r.headers.remove("X-HubSpot-Signature-v3");
    CHECK(h.post(r).status == 401);
  }
  SECTION("forged signature") {
    http::Request r = signed_request(body, now);
    r.headers.set("X-HubSpot-Signature-v3", sign_v3("not-the-secret", "POST", std::string(kTestBaseUrl) + "/webhooks/hubspot", body,
                                                   std::to_string(to_epoch_ms(now))));
    CHECK(h.post(r).status == 401);
  }
  SECTION("stale timestamp") {
    CHECK(h.post(signed_request(body, now - 5min - 1ms)).status == 401);
  }
  SECTION("future timestamp") {
    CHECK(h.post(signed_request(body, now + 5min + 1ms)).status == 401);
  }
  SECTION("wrong method") {
    http::Request r = signed_request(body, now);
    r.method = "PUT";
    auto response = h.post(r);
    CHECK(response.status == 405);
    CHECK(response.headers.get("Allow") == std::optional<std::string_view>("POST"));
  }
  SECTION("signed for another path") {
    http::Request r = signed_request(body, now, "/webhooks/other");
    r.target = "/webhooks/hubspot";
    CHECK(h.post(r).status == 401);
  }
  SECTION("signed for another public host") {
    CHECK(h.post(signed_request(body, now, "/webhooks/hubspot", kTestSecret, "https://evil.example.com")).status == 401);
  }
  SECTION("another path altogether") {
    CHECK(h.post(signed_request(body, now, "/webhooks/nothere")).status == 404);
  }
  SECTION("one byte of the body changed") {
    http::Request r = signed_request(body, now);
    r.body[r.body.size() / 2] ^= 0x04;
    CHECK(h.post(r).status == 401);
  }
  SECTION("truncated body") {
    http::Request r = signed_request(body, now);
    r.body.resize(r.body.size() - 10);
    CHECK(h.post(r).status == 401);
  }
  SECTION("invalid UTF-8, signed") {
    std::string bad = body;
    bad.insert(bad.find("lead"), "\xC3\x28");
    auto response = h.post(signed_request(bad, now));
    CHECK(response.status == 400);
    CHECK(json_of(response).at("message") == "body is not valid UTF-8");
  }
  SECTION("JSON that is not an array, signed") {
    auto response = h.post(signed_request(event_json(1), now));
    CHECK(response.status == 400);
    CHECK(json_of(response).at("message") == "body is not a JSON array of events");
  }
  SECTION("101 events, signed") {
    auto response = h.post(signed_request(events_body(101), now));
    CHECK(response.status == 400);
    CHECK(json_of(response).at("message") == "too many events: more than 100");
  }
  SECTION("a 10 MB body") {
    std::string huge = "[" + std::string(10 * 1024 * 1024, ' ') + "]";
    auto result = http::fetch(h.origin(), signed_request(huge, now));
    // The server may answer 413 before reading the whole body, or close the connection.
    if (result) {
      CHECK(result->status == 413);
    } else {
      SUCCEED("connection closed while sending: " << result.error().message);
    }
  }
  SECTION("a 10 MB body announced by Content-Length is refused before it is read") {
    std::string raw = "POST /webhooks/hubspot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: 10485760\r\n\r\n[" + std::string(64 * 1024, ' ');
    CHECK(raw_status(raw_exchange(h.port(), raw, raw.size(), 0ms, 2s)) == 413);
  }
  CHECK(f.stored() == 0);
  CHECK(h.post(signed_request(body, f.clock.now())).status == 200);  // the receiver still works
  CHECK(f.stored() == 2);
}

std::string raw_request(const http::Request& r) {
  std::string raw = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& header : r.headers.all()) raw += header.name + ": " + header.value + "\r\n";
  raw += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  return raw;
}

TEST_CASE("headers or bodies trickled slowly get 408 and nothing is stored") {
  Fixture f;
  WebhooksConfig config = test_webhooks_config();
  config.read_timeout = 300ms;
  ReceiverHarness h(*f.inbox, f.clock, config);

  // Sent at once, the raw request is fine.
  std::string raw = raw_request(signed_request(events_body(1, 1), f.clock.now()));
  CHECK(raw_status(raw_exchange(h.port(), raw, raw.size(), 0ms, 1s)) == 200);
  CHECK(f.stored() == 1);

  SECTION("headers: 4 bytes every 50 ms") {
    raw = raw_request(signed_request(events_body(1, 2), f.clock.now()));
    CHECK(raw_status(raw_exchange(h.port(), raw, 4, 50ms, 2s)) == 408);
  }
  SECTION("body: headers at once, then 8 bytes every 40 ms") {
    raw = raw_request(signed_request(events_body(1, 2), f.clock.now()));
    const std::size_t head = raw.find("\r\n\r\n") + 4;
    CHECK(raw_status(raw_exchange(h.port(), raw, 8, 40ms, 2s, head)) == 408);
  }
  CHECK(f.stored() == 1);
}

TEST_CASE("concurrent deliveries share commits and all are stored exactly once") {
  Fixture f;
  ReceiverHarness h(*f.inbox, f.clock);
  constexpr int kRequests = 200;
  std::vector<http::Request> batch;
  for (int i = 0; i < kRequests; ++i) batch.push_back(signed_request(events_body(5, i * 5 + 1), f.clock.now()));
  // Every event of a second copy of the first 20 requests is a duplicate.
  for (int i = 0; i < 20; ++i) batch.push_back(signed_request(events_body(5, i * 5 + 1), f.clock.now()));
  auto statuses = h.post_concurrently(std::move(batch));
  CHECK(std::count(statuses.begin(), statuses.end(), 200) == kRequests + 20);
  CHECK(f.stored() == kRequests * 5);
  auto metrics = h.get("/metrics");
  REQUIRE(metrics.status == 200);
  const double commits = metric_value(metrics.body, "tandem_inbox_commit_seconds_count");
  const double requests = metric_value(metrics.body, "tandem_inbox_commit_group_requests_sum");
  CHECK(requests == kRequests + 20);
  CHECK(commits >= 1);
  CHECK(commits < requests);
  WARN("group commit: " << requests << " requests in " << commits << " transactions");
}

TEST_CASE("the answer waits for the commit, and a full queue gets 503 with Retry-After") {
  Fixture f;
  ControlledInbox controlled(*f.inbox);
  WebhooksConfig config = test_webhooks_config();
  config.max_pending_requests = 2;
  ReceiverHarness h(controlled, f.clock, config);
  controlled.hold(true);
  auto first = std::async(std::launch::async, [&] { return h.post(signed_request(events_body(1, 1), f.clock.now())); });
  REQUIRE(controlled.wait_for_appends(1));  // the committer is inside append with request 1
  CHECK(first.wait_for(200ms) == std::future_status::timeout);  // not answered before the commit
  auto second = std::async(std::launch::async, [&] { return h.post(signed_request(events_body(1, 2), f.clock.now())); });
  auto third = std::async(std::launch::async, [&] { return h.post(signed_request(events_body(1, 3), f.clock.now())); });
  // Give both time to be queued, then one more is refused at once.
  Gauge& queued = h.metrics().gauge("tandem_webhook_commit_queue_requests", "Requests waiting for the committer");
  wait_until([&] { return queued.value() >= 2; }, 5s, 10ms);
  REQUIRE(queued.value() == 2);
  auto refused = h.post(signed_request(events_body(1, 4), f.clock.now()));
  CHECK(refused.status == 503);
  CHECK(refused.headers.get("Retry-After").has_value());
  controlled.hold(false);
  CHECK(first.get().status == 200);
  CHECK(second.get().status == 200);
  CHECK(third.get().status == 200);
  CHECK(f.stored() == 3);
}

TEST_CASE("a failed commit answers 503 so HubSpot retries, and /readyz turns unready") {
  Fixture f;
  ControlledInbox controlled(*f.inbox);
  ReceiverHarness h(controlled, f.clock);
  CHECK(h.get("/readyz").status == 200);
  controlled.set_failing(true);
  auto r = h.post(signed_request(events_body(2), f.clock.now()));
  CHECK(r.status == 503);
  CHECK(r.headers.get("Retry-After").has_value());
  CHECK(f.stored() == 0);
  auto unready = h.get("/readyz");
  CHECK(unready.status == 503);
  CHECK(json_of(unready) == nlohmann::json{{"listener", true}, {"store_writable", false}});
  controlled.set_failing(false);
  CHECK(h.post(signed_request(events_body(2), f.clock.now())).status == 200);
  CHECK(h.get("/readyz").status == 200);
  // Once the listener stops accepting, the service no longer reports ready.
  h.service().stop();
  auto stopping = h.service().readiness();
  CHECK(stopping.status == 503);
  CHECK(json_of(stopping).at("listener") == false);
}

TEST_CASE("a delivery whose flush to disk fails is answered 503, and HubSpot's retry stores nothing twice") {
  Fixture f;
  ControlledInbox controlled(*f.inbox);
  ReceiverHarness h(controlled, f.clock);
  controlled.set_sync_failing(true);
  const std::string body = events_body(3);
  auto r = h.post(signed_request(body, f.clock.now()));
  CHECK(r.status == 503);
  CHECK(r.headers.get("Retry-After").has_value());
  // The transaction committed before the flush failed: the retry finds the events and is a
  // duplicate, so nothing is lost and nothing is stored twice.
  controlled.set_sync_failing(false);
  r = h.post(signed_request(body, f.clock.now()));
  CHECK(r.status == 200);
  CHECK(json_of(r) == nlohmann::json{{"stored", 0}, {"duplicates", 3}});
  CHECK(f.stored() == 3);
}

TEST_CASE("/healthz and /metrics report requests, failures, duplicates and inbox depth") {
  Fixture f;
  ReceiverHarness h(*f.inbox, f.clock);
  CHECK(h.get("/healthz").status == 200);
  h.post(signed_request(events_body(4), f.clock.now()));
  h.post(signed_request(events_body(4), f.clock.now()));
  h.post(signed_request(events_body(1), f.clock.now() - 1h));
  h.post(signed_request("{}", f.clock.now()));
  std::string unknown = R"([{"eventId":9,"portalId":1,"occurredAt":1,"subscriptionType":"contact.brandNew"},
    {"eventId":10,"portalId":1,"occurredAt":1,"subscriptionType":"contact.propertyChange","changeSource":"INTEGRATION","sourceId":"9393361"}])";
  h.post(signed_request(unknown, f.clock.now()));
  h.post(signed_request(unknown, f.clock.now()));  // a redelivery: its echo is a duplicate, not a new echo
  f.clock.advance(42s);
  auto m = h.get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.headers.get("Content-Type")->find("text/plain") == 0);
  CHECK(metric_value(m.body, R"(tandem_webhook_requests_total{status="200"})") == 4);
  CHECK(metric_value(m.body, R"(tandem_webhook_requests_total{status="401"})") == 1);
  CHECK(metric_value(m.body, R"(tandem_webhook_requests_total{status="400"})") == 1);
  CHECK(metric_value(m.body, R"(tandem_webhook_signature_failures_total{reason="stale"})") == 1);
  CHECK(metric_value(m.body, R"(tandem_webhook_events_total{result="stored"})") == 6);
  CHECK(metric_value(m.body, R"(tandem_webhook_events_total{result="duplicate"})") == 6);
  // Received, redelivery included (the type is known before storing); echoes count once stored.
  CHECK(metric_value(m.body, "tandem_webhook_unknown_subscription_type_total") == 2);
  CHECK(metric_value(m.body, "tandem_webhook_own_echo_total") == 1);
  CHECK(metric_value(m.body, "tandem_inbox_depth") == 5);  // the echo is skipped, not pending
  CHECK(metric_value(m.body, "tandem_inbox_oldest_unprocessed_age_seconds") == Approx(42));
  CHECK(m.body.find("tandem_inbox_commit_seconds_bucket") != std::string::npos);
  auto echoes = testing::ok(f.inbox->list({.state = EventState::kSkipped}));
  REQUIRE(echoes.size() == 1);
  CHECK(echoes[0].event.event_id == 10);
}

TEST_CASE("stop answers queued deliveries before the committer ends, then refuses with 503") {
  Fixture f;
  MetricsRegistry metrics;
  WebhooksConfig config = test_webhooks_config();
  WebhookReceiver receiver(config, *f.inbox, f.clock, metrics);
  std::promise<int> answered;
  receiver.handle(signed_request(events_body(2), f.clock.now()),
                  http::Responder([&](http::Response r) { answered.set_value(r.status); }));
  receiver.stop();
  CHECK(answered.get_future().get() == 200);
  CHECK(f.stored() == 2);
  std::promise<http::Response> refused;
  receiver.handle(signed_request(events_body(1, 7), f.clock.now()),
                  http::Responder([&](http::Response r) { refused.set_value(std::move(r)); }));
  auto r = refused.get_future().get();
  CHECK(r.status == 503);
  CHECK(r.headers.get("Retry-After").has_value());
}

TEST_CASE("the purge deletes processed events once the retention has passed") {
  Fixture f;
  MetricsRegistry metrics;
  WebhooksConfig config = test_webhooks_config();
  WebhookReceiver receiver(config, *f.inbox, f.clock, metrics);
  auto deliver = [&](const std::string& body) {
    std::promise<int> answered;
    receiver.handle(signed_request(body, f.clock.now()),
                    http::Responder([&](http::Response r) { answered.set_value(r.status); }));
    return answered.get_future().get();
  };
  // The service runs purge_expired() as a job every purge_interval (tests/connector/service_test.cpp).
  auto purged_after_run = [&] {
    receiver.purge_expired();
    return metric_value(metrics.render(), "tandem_inbox_purged_events_total");
  };
  REQUIRE(deliver(events_body(2, 1)) == 200);
  auto claimed = testing::ok(f.inbox->claim(1, 30s, "w"));
  REQUIRE(f.inbox->acknowledge(claimed[0].id, "w"));
  f.clock.advance(71h);
  CHECK(purged_after_run() == 0);
  f.clock.advance(1h + 1s);
  CHECK(purged_after_run() == 1);
  CHECK(f.stored() == 1);  // the unprocessed event stays
  CHECK(deliver(events_body(1, 1)) == 200);
  CHECK(f.stored() == 2);  // its key expired with it: a very late redelivery is new again
}

TEST_CASE("headers above the limit get 431 and nothing is stored") {
  Fixture f;
  ReceiverHarness h(*f.inbox, f.clock);
  http::Request r = signed_request(events_body(1), f.clock.now());
  r.headers.set("X-Padding", std::string(32 * 1024, 'x'));
  auto result = http::fetch(h.origin(), r);
  if (result) {
    CHECK(result->status == 431);
  } else {
    FAIL("no response: " << result.error().message);
  }
  CHECK(f.stored() == 0);
}
