#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "sandbox/webhook_dispatcher.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"
#include "tests/support/wait_until.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;
using tandem::testing::wait_until;

namespace {

// A webhook target on 127.0.0.1:0 that records every POST and answers with a scripted status,
// or holds the answer until released.
class Receiver {
 public:
  Receiver() : guard_(io_.get_executor()) {
    server_ = std::make_unique<http::HttpServer>(io_, http::ServerOptions{}, [this](http::Request r, http::Responder done) {
      std::unique_lock lock(mutex_);
      requests_.push_back(r);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      if (hold_) {
        held_.push_back(std::move(done));
      } else {
        int status = statuses_.empty() ? 200 : statuses_.front();
        if (!statuses_.empty()) statuses_.erase(statuses_.begin());
        --in_flight_;
        done(http::Response::text(status, "ok"));
      }
      cv_.notify_all();
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    release();
    server_->stop();
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  std::string url() const { return server_->base_url() + "/webhooks/hubspot?source=sandbox"; }
  void script(std::vector<int> statuses) {
    std::unique_lock lock(mutex_);
    statuses_ = std::move(statuses);
  }
  void hold(bool on) {
    std::unique_lock lock(mutex_);
    hold_ = on;
  }
  void release() {
    std::unique_lock lock(mutex_);
    hold_ = false;
    for (auto& h : held_) {
      --in_flight_;
      h(http::Response::text(200, "ok"));
    }
    held_.clear();
  }
  // Waits (for I/O, not for time-dependent behaviour) until `n` requests arrived.
  std::vector<http::Request> wait_for(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
    return requests_;
  }
  int max_in_flight() {
    std::unique_lock lock(mutex_);
    return max_in_flight_;
  }
  std::size_t count() {
    std::unique_lock lock(mutex_);
    return requests_.size();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<http::Request> requests_;
  std::vector<int> statuses_;
  std::vector<http::Responder> held_;
  bool hold_ = false;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

void point_at(SandboxFixture& f, const Receiver& r, int max_concurrent = 10) {
  f.call_json("PUT", "/_sandbox/webhooks/settings", {{"targetUrl", r.url()}, {"maxConcurrentRequests", max_concurrent}});
}

json all_events(const std::vector<http::Request>& requests) {
  json out = json::array();
  for (const auto& r : requests)
    for (const auto& e : json::parse(r.body)) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("sandbox webhooks: contact creation and subscribed property changes by the app, signed v1 and v3") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  auto c = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "w@example.com"}, {"firstname", "W"}}}}, 201);
  auto got = receiver.wait_for(1);
  REQUIRE(!got.empty());
  json events = all_events(got);
  // creation + subscribed properties set at creation (email, lifecyclestage); firstname is not subscribed
  std::set<std::string> kinds;
  for (const auto& e : events) {
    kinds.insert(e.at("subscriptionType").get<std::string>() + ":" + e.value("propertyName", ""));
    CHECK(e.at("portalId") == 12345678);
    CHECK(e.at("appId") == 4242);
    CHECK(e.at("objectId") == std::stoll(c.at("id").get<std::string>()));
    CHECK(e.at("attemptNumber") == 0);
    CHECK(e.at("changeSource") == "INTEGRATION");
    CHECK(e.at("sourceId") == "4242");
    CHECK(e.at("occurredAt") == to_epoch_ms(f.clock.now()));
    CHECK(e.at("eventId").is_number());
    CHECK(e.at("subscriptionId").is_number());
  }
  CHECK(kinds.contains("contact.creation:"));
  CHECK(kinds.contains("contact.propertyChange:email"));
  CHECK(!kinds.contains("contact.propertyChange:firstname"));

  const auto& request = got.at(0);
  const std::string secret = f.config.app.client_secret;
  CHECK(request.headers.get("X-HubSpot-Signature-Version") == std::optional<std::string_view>("v1"));
  CHECK(request.headers.get("X-HubSpot-Signature").value() == crypto::to_hex(crypto::sha256(secret + request.body)));
  std::string timestamp(request.headers.get("X-HubSpot-Request-Timestamp").value());
  CHECK(timestamp == std::to_string(to_epoch_ms(f.clock.now())));
  std::string uri = receiver.url();
  CHECK(request.headers.get("X-HubSpot-Signature-v3").value() ==
        crypto::base64_encode(crypto::hmac_sha256(secret, "POST" + uri + request.body + timestamp)));

  // A change through the API to a subscribed property is delivered; an unsubscribed one is not.
  f.call_json("PATCH", "/crm/v3/objects/contacts/" + c.at("id").get<std::string>(),
              {{"properties", {{"hs_lead_status", "OPEN"}, {"jobtitle", "CTO"}}}});
  auto more = all_events(receiver.wait_for(got.size() + 1));
  bool lead_status = false, jobtitle = false;
  for (const auto& e : more) {
    lead_status = lead_status || (e.value("propertyName", "") == "hs_lead_status" && e.at("propertyValue") == "OPEN");
    jobtitle = jobtitle || e.value("propertyName", "") == "jobtitle";
  }
  CHECK(lead_status);
  CHECK(!jobtitle);
}

TEST_CASE("sandbox webhooks: retried on non-2xx with attemptNumber incremented, then abandoned") {
  auto cfg = test_config();
  cfg.delivery.max_retries = 2;
  SandboxFixture f(cfg);
  Receiver receiver;
  point_at(f, receiver);
  f.call_json("PUT", "/_sandbox/webhooks/settings",
              {{"subscriptions", {{{"subscriptionType", "contact.creation"}}}}});
  receiver.script({500, 404});
  f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "r@example.com"}}}}, 201);
  auto got = receiver.wait_for(3);
  REQUIRE(got.size() == 3);
  for (int i = 0; i < 3; ++i) {
    auto body = json::parse(got[i].body);
    CHECK(body.size() == 1);
    CHECK(body.at(0).at("attemptNumber") == i);
  }
  // The third attempt succeeded: the log shows two retries, then a delivery.
  auto log = f.call_json("GET", "/_sandbox/webhooks/deliveries");
  REQUIRE(log.at("results").size() == 3);
  CHECK(log.at("results").at(0).at("outcome") == "retry_scheduled");
  CHECK(log.at("results").at(0).at("status") == 500);
  CHECK(log.at("results").at(1).at("status") == 404);
  CHECK(log.at("results").at(2).at("outcome") == "delivered");

  receiver.script({500, 500, 500});
  f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "r2@example.com"}}}}, 201);
  receiver.wait_for(6);
  // Waiting for the log write, not for a timer.
  CHECK(
      wait_until([&] { return f.call_json("GET", "/_sandbox/webhooks/deliveries?since=3").at("results").size() >= 3; },
                 std::chrono::seconds(5)));
  auto last = f.call_json("GET", "/_sandbox/webhooks/deliveries?since=3").at("results");
  REQUIRE(last.size() == 3);
  CHECK(last.at(2).at("outcome") == "gave_up");
}

TEST_CASE("sandbox webhooks: a slow target times out and the batch is retried") {
  auto cfg = test_config();
  cfg.delivery.timeout_ms = 200;  // HubSpot's 5 s, shortened
  SandboxFixture f(cfg);
  Receiver receiver;
  point_at(f, receiver);
  receiver.hold(true);
  f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "slow@example.com"}}}}, 201);
  receiver.wait_for(1);
  auto got = receiver.wait_for(2);
  receiver.release();
  REQUIRE(got.size() >= 2);
  CHECK(json::parse(got[1].body).at(0).at("attemptNumber") == 1);
  auto log = f.call_json("GET", "/_sandbox/webhooks/deliveries").at("results");
  REQUIRE(!log.empty());
  CHECK(log.at(0).at("status").is_null());
  CHECK_THAT(log.at(0).at("error").get<std::string>(), Catch::Contains("timeout"));
}

TEST_CASE("sandbox webhooks: at most maxConcurrentRequests in flight and at most 100 events per request") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver, 2);
  receiver.hold(true);
  for (int b = 0; b < 4; ++b) {
    json inputs = json::array();
    for (int i = 0; i < 100; ++i) inputs.push_back({{"properties", {{"email", "m" + std::to_string(b * 100 + i) + "@example.com"}}}});
    f.call_json("POST", "/crm/v3/objects/contacts/batch/create", {{"inputs", inputs}}, 201);
  }
  receiver.wait_for(2);
  // Nothing else may start while both requests are held.
  auto status = f.call_json("GET", "/_sandbox/webhooks/status");
  CHECK(status.at("inFlight") == 2);
  CHECK(receiver.count() == 2);
  receiver.release();
  // 400 contacts x 3 subscribed events (creation, email, lifecyclestage) = 1200 events.
  std::size_t events = 0;
  wait_until([&] { return (events = all_events(receiver.wait_for(1)).size()) >= 1200; }, std::chrono::seconds(10));
  CHECK(events == 1200);
  CHECK(receiver.max_in_flight() <= 2);
  for (const auto& r : receiver.wait_for(1)) CHECK(json::parse(r.body).size() <= 100);
}

TEST_CASE("sandbox webhooks: configurable duplicate delivery") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  f.call_json("PUT", "/_sandbox/webhooks/settings", {{"subscriptions", {{{"subscriptionType", "contact.creation"}}}}});
  f.call_json("PUT", "/_sandbox/webhooks/delivery", {{"duplicateProbability", 1.0}});
  f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "d@example.com"}}}}, 201);
  auto got = receiver.wait_for(2);
  REQUIRE(got.size() == 2);
  CHECK(json::parse(got[0].body).at(0).at("eventId") == json::parse(got[1].body).at(0).at("eventId"));
}

TEST_CASE("sandbox webhooks: configurable out-of-order delivery") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  f.call_json("PUT", "/_sandbox/webhooks/settings", {{"subscriptions", {{{"subscriptionType", "contact.creation"}}}}});
  auto ordered = [&] {
    json inputs = json::array();
    static int n = 0;
    for (int i = 0; i < 50; ++i) inputs.push_back({{"properties", {{"email", "o" + std::to_string(n++) + "@example.com"}}}});
    auto before = receiver.count();
    f.call_json("POST", "/crm/v3/objects/contacts/batch/create", {{"inputs", inputs}}, 201);
    std::vector<std::int64_t> ids;
    wait_until(
        [&] {
          auto got = receiver.wait_for(before + 1);
          ids.clear();
          for (std::size_t r = before; r < got.size(); ++r)
            for (const auto& e : json::parse(got[r].body)) ids.push_back(e.at("eventId"));
          return ids.size() >= 50;
        },
        std::chrono::seconds(10));
    REQUIRE(ids.size() == 50);
    return std::is_sorted(ids.begin(), ids.end());
  };
  CHECK(ordered());
  f.call_json("PUT", "/_sandbox/webhooks/delivery", {{"outOfOrderProbability", 1.0}});
  CHECK(!ordered());
}

TEST_CASE("sandbox webhook signatures match the contract's test vectors") {
  const std::string secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
  const std::string vector1 =
      R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
  CHECK(sign_v1(secret, vector1) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
  CHECK(sign_v3(secret, "POST", "https://www.example.com/webhook_uri", R"({'example_field':'example_value'})", "1693657560000") ==
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=");
  CHECK(sign_v3(secret, "POST", "https://www.example.com/webhook_uri", R"({"example_field":"example_value"})", "1693657560000") ==
        "oaA3M5dEtt6kFsseJD/Hv/x+JNl1vsoxFj4oxmwP6Go=");
  CHECK(sign_v3(secret, "POST", "https://www.example.com/webhook_uri", vector1, "1693657560000") ==
        "ecWWq6SLunL3htE3leWhW3cjrE6R0rZmBOcQ2bf4D40=");
  CHECK(sign_v3(secret, "POST", "https://www.example.com/webhook_uri?source=push%2Fv3", R"({"example_field":"example_value"})",
                "1693657560000") == "60VJyLO4DBiQv4ucFDliDzCfcQSWcN0VrSocAUuwELc=");
  CHECK(v3_signed_uri("https://x.example/a%3a%2Fb?q=%40%20") == "https://x.example/a:/b?q=@%20");
}

TEST_CASE("sandbox webhooks: a write made as a HubSpot user is delivered as a UI change, not the app's echo") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  http::Request request;
  request.method = "POST";
  request.target = "/crm/v3/objects/contacts";
  request.headers.set("Authorization", "Bearer " + f.token);
  request.headers.set("Content-Type", "application/json");
  request.headers.set("X-Sandbox-Acting-User", "9002");
  request.body = R"({"properties":{"email":"ui@example.com"}})";
  auto result = http::fetch(f.base, request);
  REQUIRE(result.has_value());
  CHECK(result->status == 201);
  json events = all_events(receiver.wait_for(1));
  REQUIRE(!events.empty());
  for (const auto& e : events) {
    CHECK(e.at("changeSource") == "CRM_UI");
    CHECK(e.at("sourceId") == "userId:9002");
  }

  request.headers.set("X-Sandbox-Acting-User", "not-a-user");
  auto rejected = http::fetch(f.base, request);
  REQUIRE(rejected.has_value());
  CHECK(rejected->status == 400);
}

TEST_CASE("sandbox webhooks: a rep logging a call changes Last Contacted with changeSource ENGAGEMENTS") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  f.call_json("PUT", "/_sandbox/webhooks/settings",
              {{"subscriptions", {{{"subscriptionType", "contact.propertyChange"}, {"propertyName", "notes_last_contacted"}},
                                  {{"subscriptionType", "object.propertyChange"}, {"propertyName", "num_contacted_notes"}}}}});
  auto c = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "called@example.com"}}}}, 201);
  std::string cid = c.at("id");
  http::Request request;
  request.method = "POST";
  request.target = "/crm/v3/objects/calls";
  request.headers.set("Authorization", "Bearer " + f.token);
  request.headers.set("Content-Type", "application/json");
  request.headers.set("X-Sandbox-Acting-User", "9002");
  request.body = json{{"properties", {{"hs_timestamp", "2026-11-20T10:00:00Z"}, {"hs_call_status", "COMPLETED"}}},
                      {"associations", {{{"to", {{"id", cid}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 194}}}}}}}}
                     .dump();
  auto result = http::fetch(f.base, request);
  REQUIRE(result.has_value());
  REQUIRE(result->status == 201);
  CHECK(json::parse(result->body).at("properties").at("hs_created_by_user_id") == "9002");
  json events = all_events(receiver.wait_for(1));
  if (events.size() < 2) events = all_events(receiver.wait_for(2));
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    CHECK(e.at("objectId") == std::stoll(cid));
    CHECK(e.at("changeSource") == "ENGAGEMENTS");
    if (e.at("propertyName") == "notes_last_contacted") {
      CHECK(e.at("subscriptionType") == "contact.propertyChange");
      CHECK(e.at("propertyValue") == "2026-11-20T10:00:00.000Z");
    } else {
      CHECK(e.at("propertyName") == "num_contacted_notes");
      CHECK(e.at("objectTypeId") == "0-1");
      CHECK(e.at("propertyValue") == "1");
    }
  }
}

TEST_CASE("sandbox webhooks: contact.merge and object.merge carry the merge fields") {
  SandboxFixture f(test_config());
  Receiver receiver;
  point_at(f, receiver);
  f.call_json("PUT", "/_sandbox/webhooks/settings",
              {{"subscriptions", {{{"id", 501}, {"subscriptionType", "contact.merge"}}, {{"id", 502}, {"subscriptionType", "object.merge"}}}}});
  std::string primary = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "p@example.com"}}}}, 201).at("id");
  std::string other =
      f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "o@example.com"}, {"jobtitle", "CTO"}, {"city", "Oslo"}}}}, 201)
          .at("id");
  f.call_json("POST", "/crm/objects/2026-03/contacts/merge", {{"primaryObjectId", primary}, {"objectIdToMerge", other}});
  json events = all_events(receiver.wait_for(1));
  if (events.size() < 2) events = all_events(receiver.wait_for(2));
  REQUIRE(events.size() == 2);
  std::set<std::int64_t> subscriptions;
  for (const auto& e : events) {
    subscriptions.insert(e.at("subscriptionId").get<std::int64_t>());
    CHECK(e.at("objectId") == std::stoll(primary));
    CHECK(e.at("primaryObjectId") == std::stoll(primary));
    CHECK(e.at("mergedObjectIds") == json::array({std::stoll(other)}));
    CHECK(e.at("newObjectId") == std::stoll(primary));
    CHECK(e.at("numberOfPropertiesMoved") == 2);  // jobtitle and city
    CHECK(e.at("changeSource") == "INTEGRATION");
    if (e.at("subscriptionType") == "object.merge") CHECK(e.at("objectTypeId") == "0-1");
  }
  CHECK(subscriptions == std::set<std::int64_t>{501, 502});
}
