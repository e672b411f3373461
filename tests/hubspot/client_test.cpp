// HubSpotClient against a real SandboxServer on 127.0.0.1:0, and against scripted servers for the
// answers the sandbox never gives (cut-short bodies, resets, 429 with Retry-After).

#include <algorithm>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "common/metrics.hpp"
#include "hubspot/client.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"
#include "tests/support/scripted_server.hpp"

using namespace tandem;
using namespace tandem::hubspot;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kPortal = 12345678;

// One client on its own io_context, run on the test thread per call.
struct ClientRig {
  explicit ClientRig(std::string base_url, StaticTokenSource::Refresher refresher = {})
      : http(io), tokens(std::move(refresher)), limiter(io, SystemClock::instance()),
        client(http, tokens, limiter, metrics, ClientConfig{std::move(base_url), "2026-03", 5'000ms}) {}

  template <class T>
  T run(Awaitable<T> call) {
    std::optional<T> out;
    boost::asio::co_spawn(io, std::move(call), [&](std::exception_ptr e, T v) {
      REQUIRE(!e);
      out.emplace(std::move(v));
    });
    io.restart();
    io.run();
    REQUIRE(out.has_value());
    return std::move(*out);
  }

  std::uint64_t requests(const std::string& operation, const std::string& status) {
    return metrics
        .counter("tandem_hubspot_requests_total", "",
                 {{"portal", std::to_string(kPortal)}, {"operation", operation}, {"status", status}})
        .value();
  }

  boost::asio::io_context io;
  http::HttpClient http;
  StaticTokenSource tokens;
  AccountRateLimiter limiter;
  MetricsRegistry metrics;
  HubSpotClient client;
};

std::string create_contact(sandbox::testing::SandboxFixture& f, const std::string& email) {
  auto c = f.call_json("POST", "/crm/objects/2026-03/contacts",
                       {{"properties", {{"email", email}, {"firstname", "Ada"}}}}, 201);
  return c.at("id").get<std::string>();
}

sandbox::SandboxConfig fast_config() {
  auto c = sandbox::testing::test_config();
  return c;
}

}  // namespace

TEST_CASE("client reads a contact and batch-reads contacts from the sandbox") {
  sandbox::testing::SandboxFixture f(fast_config());
  ClientRig rig(f.base);
  rig.tokens.set(kPortal, Secret(f.token));
  const auto id = create_contact(f, "ada@example.com");

  auto one = rig.run(rig.client.get_contact(kPortal, id, {"email", "firstname", "lastname"}));
  REQUIRE(one.has_value());
  CHECK(one->id == id);
  CHECK(one->properties.at("email") == "ada@example.com");
  REQUIRE(one->properties.count("lastname") == 1);
  CHECK(!one->properties.at("lastname").has_value());  // requested, unset: null on the wire

  auto batch = rig.run(rig.client.batch_read_contacts(kPortal, {id}, {"email"}));
  REQUIRE(batch.has_value());
  REQUIRE(batch->results.size() == 1);
  CHECK(batch->results[0].properties.at("email") == "ada@example.com");
  CHECK(rig.requests("get_contact", "200") == 1);
}

TEST_CASE("client batch update answers 207 for an unknown property when inputs carry objectWriteTraceId") {
  sandbox::testing::SandboxFixture f(fast_config());
  ClientRig rig(f.base);
  rig.tokens.set(kPortal, Secret(f.token));
  const auto a = create_contact(f, "a@example.com");
  const auto b = create_contact(f, "b@example.com");
  auto r = rig.run(rig.client.batch_update_contacts(
      kPortal, {UpdateInput{a, {{"firstname", "Grace"}}, "t-a"}, UpdateInput{b, {{"no_such_property", "x"}}, "t-b"}}));
  INFO((r ? std::string("ok") : r.error().describe()));
  REQUIRE(r.has_value());
  CHECK(r->results.size() == 1);
  REQUIRE(r->errors.size() == 1);
  REQUIRE(r->errors[0].context.count("objectWriteTraceId") == 1);
  CHECK(r->errors[0].context.at("objectWriteTraceId") == std::vector<std::string>{"t-b"});
}

TEST_CASE("client refreshes a rejected token once and the call succeeds") {
  sandbox::testing::SandboxFixture f(fast_config());
  int refresher_calls = 0;
  ClientRig rig(f.base, [&](std::int64_t) -> std::optional<Secret> {
    ++refresher_calls;
    return Secret(f.mint_token());
  });
  rig.tokens.set(kPortal, Secret("not-a-valid-token"));
  auto details = rig.run(rig.client.account_details(kPortal));
  INFO((details ? std::string("ok") : details.error().describe()));
  REQUIRE(details.has_value());
  CHECK(!details->time_zone.empty());
  CHECK(refresher_calls == 1);
  CHECK(rig.tokens.refreshes() == 1);
  CHECK(rig.requests("account_details", "401") == 1);
  CHECK(rig.requests("account_details", "200") == 1);
  CHECK(rig.metrics.counter("tandem_hubspot_token_refreshes_total", "", {{"portal", std::to_string(kPortal)}}).value() == 1);
}

TEST_CASE("client reports a 2xx with a cut-short body as kBadBody, maybe applied for a write") {
  testing::ScriptedServer server([](testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"status\"");
    c.close();
  });
  ClientRig rig(server.origin());
  rig.tokens.set(kPortal, Secret("t"));
  auto r = rig.run(rig.client.batch_update_contacts(kPortal, {UpdateInput{"1", {{"firstname", "x"}}, ""}}));
  REQUIRE(r.has_error());
  CHECK(r.error().kind == ApiError::Kind::kBadBody);
  CHECK(r.error().maybe_applied);
}

TEST_CASE("client reports garbage JSON of a read as kBadBody, not applied") {
  testing::ScriptedServer server([](testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
    c.close();
  });
  ClientRig rig(server.origin());
  rig.tokens.set(kPortal, Secret("t"));
  auto r = rig.run(rig.client.get_contact(kPortal, "1", {}));
  REQUIRE(r.has_error());
  CHECK(r.error().kind == ApiError::Kind::kBadBody);
  CHECK(!r.error().maybe_applied);
}

TEST_CASE("client reports a reset after a write as a transport error that may have been applied") {
  testing::ScriptedServer server([](testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    c.reset();
  });
  ClientRig rig(server.origin());
  rig.tokens.set(kPortal, Secret("t"));
  auto r = rig.run(rig.client.batch_create_tasks(kPortal, {CreateInput{{{"hs_task_subject", "x"}}, {}, "t1"}}));
  REQUIRE(r.has_error());
  CHECK(r.error().kind == ApiError::Kind::kTransport);
  CHECK(r.error().maybe_applied);
}

TEST_CASE("client reads a 429's policy and Retry-After and pauses the account") {
  testing::ScriptedServer server([](testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    std::string body = R"({"status":"error","message":"limit","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING","correlationId":"c-1"})";
    c.write("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 12\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    c.close();
  });
  ClientRig rig(server.origin());
  rig.tokens.set(kPortal, Secret("t"));
  const auto before = std::chrono::steady_clock::now();
  auto r = rig.run(rig.client.get_contact(kPortal, "1", {}));
  REQUIRE(r.has_error());
  CHECK(r.error().status == 429);
  CHECK(r.error().body.policy_name == "TEN_SECONDLY_ROLLING");
  CHECK(r.error().body.correlation_id == "c-1");
  REQUIRE(r.error().retry_after);
  CHECK(*r.error().retry_after == 12s);
  CHECK(rig.limiter.paused_until(kPortal, Budget::kGeneral) >= before + 12s);
  CHECK(rig.limiter.paused_until(kPortal + 1, Budget::kGeneral) == Clock::SteadyTime{});
  CHECK(rig.metrics
            .counter("tandem_hubspot_rate_limited_total", "",
                     {{"portal", std::to_string(kPortal)}, {"policy", "TEN_SECONDLY_ROLLING"}})
            .value() == 1);
}

TEST_CASE("client reports a 5xx with HubSpot's body") {
  testing::ScriptedServer server([](testing::ScriptedConnection& c) {
    if (c.read_request().empty()) return;
    std::string body = R"({"status":"error","message":"boom","category":"INTERNAL_ERROR"})";
    c.write("HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    c.close();
  });
  ClientRig rig(server.origin());
  rig.tokens.set(kPortal, Secret("t"));
  auto r = rig.run(rig.client.owners(kPortal));
  REQUIRE(r.has_error());
  CHECK(r.error().kind == ApiError::Kind::kHttp);
  CHECK(r.error().status == 502);
  CHECK(r.error().body.message == "boom");
  CHECK(rig.requests("owners", "502") == 1);
}

TEST_CASE("rate limiter: a waiter of one account does not delay another account") {
  boost::asio::io_context io;
  AccountRateLimiter limiter(io, SystemClock::instance(), RateLimits{1, 1, 10'000ms});
  bool a_first = false, a_second = false, b_done = false;
  auto take = [&](std::int64_t portal, bool& flag) -> Awaitable<void> {
    co_await limiter.acquire(portal, Budget::kGeneral);
    flag = true;
  };
  boost::asio::co_spawn(io, take(1, a_first), [](std::exception_ptr) {});
  boost::asio::co_spawn(io, take(1, a_second), [](std::exception_ptr) {});  // waits 10 s for the window
  boost::asio::co_spawn(io, take(2, b_done), [](std::exception_ptr) {});
  io.poll();
  CHECK(a_first);
  CHECK(!a_second);
  CHECK(b_done);
}

TEST_CASE("client pages search and owners and associations and reads and creates properties and reads the account") {
  auto config = fast_config();
  config.portals.at(0).time_zone = "America/New_York";
  sandbox::testing::SandboxFixture f(config);
  ClientRig rig(f.base);
  rig.tokens.set(kPortal, Secret(f.token));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create_contact(f, "p" + std::to_string(i) + "@example.com"));

  // Search, two per page, until the last page: every contact once.
  SearchRequest search;
  search.filter_groups.push_back({{Filter{"firstname", "EQ", std::string("Ada"), std::nullopt, {}}}});
  search.properties = {"email"};
  search.sorts.push_back({"email", "ASCENDING"});
  search.limit = 2;
  std::vector<std::string> found;
  for (int page = 0; page < 10; ++page) {
    auto r = rig.run(rig.client.search_contacts(kPortal, search));
    REQUIRE(r.has_value());
    for (const auto& o : r->results) found.push_back(o.id);
    if (r->next_after.empty()) break;
    search.after = r->next_after;
  }
  std::sort(found.begin(), found.end());
  CHECK(found == ids);

  // Owners, one per page.
  std::vector<std::string> owners;
  std::string after;
  for (int page = 0; page < 50; ++page) {
    auto r = rig.run(rig.client.owners(kPortal, after, 1));
    REQUIRE(r.has_value());
    for (const auto& o : r->results) owners.push_back(o.id);
    if (r->next_after.empty()) break;
    after = r->next_after;
  }
  // Archived owners are left out of the list, as HubSpot does unless archived=true.
  auto active = std::count_if(config.portals.at(0).owners.begin(), config.portals.at(0).owners.end(),
                              [](const sandbox::OwnerConfig& o) { return !o.archived; });
  CHECK(active > 1);
  CHECK(owners.size() == static_cast<std::size_t>(active));

  // A task with its association, read back through the contact's associations.
  CreateInput task;
  task.properties = {{"hs_timestamp", "1767225600000"}, {"hs_task_subject", "Call Ada"}};
  task.associations.push_back({ids[0], {AssociationType{"HUBSPOT_DEFINED", 204}}});
  auto created = rig.run(rig.client.batch_create_tasks(kPortal, {task}));
  REQUIRE(created.has_value());
  REQUIRE(created->results.size() == 1);
  auto linked = rig.run(rig.client.associations(kPortal, "contacts", ids[0], "tasks"));
  REQUIRE(linked.has_value());
  REQUIRE(linked->results.size() == 1);
  CHECK(linked->results[0].to_object_id == created->results[0].id);
  auto updated = rig.run(rig.client.update_task(kPortal, created->results[0].id, {{"hs_task_status", "COMPLETED"}}));
  REQUIRE(updated.has_value());
  auto read = rig.run(rig.client.batch_read_tasks(kPortal, {created->results[0].id}, {"hs_task_status"}));
  REQUIRE(read.has_value());
  CHECK(read->results.at(0).properties.at("hs_task_status") == "COMPLETED");

  // Properties: the lifecycle stage's options; a group and a property created once, then 409.
  auto stage = rig.run(rig.client.property(kPortal, "contacts", "lifecyclestage"));
  REQUIRE(stage.has_value());
  CHECK(!stage->options.empty());
  auto group = rig.run(rig.client.create_property_group(kPortal, "contacts", PropertyGroup{"tandem", "Tandem", 0}));
  REQUIRE(group.has_value());
  CHECK(*group);
  PropertyDefinition recycle{"tandem_recycle_count", "Recycle count", "number", "number", "tandem", "", {}};
  auto first = rig.run(rig.client.create_property(kPortal, "contacts", recycle));
  REQUIRE(first.has_value());
  CHECK(*first);
  auto again = rig.run(rig.client.create_property(kPortal, "contacts", recycle));
  REQUIRE(again.has_value());
  CHECK(!*again);
  auto all = rig.run(rig.client.properties(kPortal, "contacts"));
  REQUIRE(all.has_value());
  CHECK(std::any_of(all->begin(), all->end(), [](const PropertyDefinition& p) { return p.name == "tandem_recycle_count"; }));

  auto details = rig.run(rig.client.account_details(kPortal));
  REQUIRE(details.has_value());
  CHECK(details->portal_id == kPortal);
  CHECK(details->time_zone == "America/New_York");
}
