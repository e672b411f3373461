#include <chrono>
#include <cstdio>
#include <filesystem>

#include <catch2/catch.hpp>

#include "common/http_client.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

TEST_CASE("sandbox rate limit: rolling 10 s window with headers, 429 body, recovery") {
  auto cfg = test_config();
  cfg.limits.ten_secondly = 5;
  SandboxFixture f(cfg);
  for (int i = 0; i < 5; ++i) {
    auto r = f.call("GET", "/crm/v3/objects/contacts");
    REQUIRE(r.status == 200);
    CHECK(r.headers.get("X-HubSpot-RateLimit-Max") == std::optional<std::string_view>("5"));
    CHECK(r.headers.get("X-HubSpot-RateLimit-Remaining") == std::optional<std::string_view>(std::to_string(4 - i)));
    CHECK(r.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds") == std::optional<std::string_view>("10000"));
    f.clock.advance(std::chrono::seconds(1));
  }
  auto limited = f.call("GET", "/crm/v3/objects/contacts");
  REQUIRE(limited.status == 429);
  auto body = json::parse(limited.body);
  CHECK(body.at("status") == "error");
  CHECK(body.at("errorType") == "RATE_LIMIT");
  CHECK(body.at("policyName") == "TEN_SECONDLY_ROLLING");
  CHECK(body.contains("correlationId"));
  CHECK(limited.headers.get("X-HubSpot-RateLimit-Remaining") == std::optional<std::string_view>("0"));
  // Rolling: after the first request leaves the window, exactly one more fits.
  f.clock.advance(std::chrono::seconds(5));
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 429);
}

TEST_CASE("sandbox rate limit: search 5 per second per account without rate-limit headers") {
  auto cfg = test_config();
  cfg.limits.search_per_second = 5;
  cfg.limits.ten_secondly = 3;  // search is exempt from the ten-secondly limit
  SandboxFixture f(cfg);
  for (int i = 0; i < 5; ++i) {
    auto r = f.call("POST", "/crm/v3/objects/contacts/search", "{}");
    REQUIRE(r.status == 200);
    CHECK(!r.headers.get("X-HubSpot-RateLimit-Remaining"));
  }
  auto limited = f.call("POST", "/crm/objects/2026-03/contacts/search", "{}");
  REQUIRE(limited.status == 429);
  CHECK(json::parse(limited.body).at("message") == "You have reached your secondly limit.");
  CHECK(json::parse(limited.body).at("errorType") == "RATE_LIMIT");
  f.clock.advance(std::chrono::seconds(1));
  CHECK(f.call("POST", "/crm/v3/objects/contacts/search", "{}").status == 200);
}

TEST_CASE("sandbox faults: 429 bursts, injected errors, latency, and the request log") {
  SandboxFixture f(test_config());
  auto put = [&](const json& rules) { f.call_json("PUT", "/_sandbox/faults", {{"rules", rules}}); };

  put({{{"method", "GET"}, {"path", "/crm/v3/objects/contacts*"}, {"burst429", 2}}});
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 429);
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 429);
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);
  CHECK(f.call("GET", "/crm/v3/owners").status == 200);

  put({{{"path", "/crm/v3/owners*"}, {"errorRate", 1.0}, {"errorStatuses", {503}}}});
  auto e = f.call("GET", "/crm/v3/owners");
  CHECK(e.status == 503);
  CHECK(json::parse(e.body).at("status") == "error");
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);

  put({{{"path", "/crm/v3/owners"}, {"latencyMs", 150}}});
  auto start = std::chrono::steady_clock::now();
  CHECK(f.call("GET", "/crm/v3/owners").status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));

  CHECK(f.call("DELETE", "/_sandbox/faults", "", "").status == 204);
  CHECK(f.call("GET", "/crm/v3/owners").status == 200);
  CHECK(f.call("PUT", "/_sandbox/faults", R"({"rules":[{"latencyMS":1}]})", "").status == 400);

  auto log = f.call_json("GET", "/_sandbox/requests?since=0");
  bool saw_fault = false, saw_503 = false;
  for (const auto& r : log.at("results")) {
    saw_fault = saw_fault || r.value("fault", "") == "burst429";
    saw_503 = saw_503 || r.at("status") == 503;
  }
  CHECK(saw_fault);
  CHECK(saw_503);
}

TEST_CASE("sandbox faults: a DAILY 429 burst scoped to one portal, with Retry-After") {
  auto cfg = test_config();
  PortalConfig second = cfg.portals.front();
  second.id = 87654321;
  second.domain = "second.tandem.local";
  cfg.portals.push_back(second);
  SandboxFixture f(cfg);
  std::string other = f.mint_token({{"portalId", 87654321}});
  f.call_json("PUT", "/_sandbox/faults",
              {{"rules", {{{"path", "/crm/*"}, {"burst429", 2}, {"burst429Policy", "DAILY"}, {"retryAfterS", 30},
                           {"portal", cfg.portals.front().id}}}}});

  // The other account is untouched and does not use up the burst.
  CHECK(f.call("GET", "/crm/v3/objects/contacts", "", other).status == 200);
  CHECK(f.call("GET", "/crm/v3/objects/contacts", "", other).status == 200);
  for (int i = 0; i < 2; ++i) {
    auto r = f.call("GET", "/crm/v3/objects/contacts");
    REQUIRE(r.status == 429);
    auto body = json::parse(r.body);
    CHECK(body.at("status") == "error");
    CHECK(body.at("message") == "You have reached your daily limit.");
    CHECK(body.at("errorType") == "RATE_LIMIT");
    CHECK(body.at("policyName") == "DAILY");
    CHECK(body.at("correlationId").get<std::string>().size() == 36);
    CHECK(body.at("requestId").get<std::string>().size() == 36);
    CHECK(r.headers.get("Retry-After").value_or("") == "30");
  }
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);

  // SECONDLY wording, no Retry-After unless asked; the default stays TEN_SECONDLY_ROLLING.
  f.call_json("PUT", "/_sandbox/faults",
              {{"rules", {{{"path", "/crm/v3/owners"}, {"burst429", 1}, {"burst429Policy", "SECONDLY"}},
                          {{"path", "/crm/v3/objects/contacts"}, {"burst429", 1}}}}});
  auto secondly = f.call("GET", "/crm/v3/owners");
  REQUIRE(secondly.status == 429);
  CHECK(json::parse(secondly.body).at("policyName") == "SECONDLY");
  CHECK(json::parse(secondly.body).at("message") == "You have reached your secondly limit.");
  CHECK(!secondly.headers.get("Retry-After"));
  auto rolling = f.call("GET", "/crm/v3/objects/contacts");
  REQUIRE(rolling.status == 429);
  CHECK(json::parse(rolling.body).at("policyName") == "TEN_SECONDLY_ROLLING");

  auto rules = f.call_json("GET", "/_sandbox/faults").at("rules");
  CHECK(rules.at(0).at("burst429Policy") == "SECONDLY");
  CHECK(f.call("PUT", "/_sandbox/faults", R"({"rules":[{"burst429":1,"burst429Policy":"HOURLY"}]})", "").status == 400);
}

TEST_CASE("sandbox faults: a connection reset before or after the write was applied") {
  SandboxFixture f(test_config());
  auto attempt = [&](const std::string& when, const std::string& email) {
    f.call_json("PUT", "/_sandbox/faults", {{"rules", {{{"method", "POST"}, {"path", "/crm/v3/objects/contacts"}, {"resetRate", 1.0}, {"resetWhen", when}}}}});
    http::Request request;
    request.method = "POST";
    request.target = "/crm/v3/objects/contacts";
    request.body = json{{"properties", {{"email", email}}}}.dump();
    request.headers.set("Content-Type", "application/json");
    request.headers.set("Authorization", "Bearer " + f.token);
    auto result = http::fetch(f.base, request);
    // The client learns nothing about the outcome: the connection is reset without an answer.
    REQUIRE(result.has_error());
    const http::ClientError error = result.error();
    CHECK(error.kind == http::ClientError::Kind::kConnectionLost);
    CHECK(error.maybe_applied);
    f.call("DELETE", "/_sandbox/faults", "", "");
    return f.call("GET", "/crm/v3/objects/contacts/" + email + "?idProperty=email").status;
  };
  CHECK(attempt("before", "before@example.com") == 404);
  CHECK(attempt("after", "after@example.com") == 200);
}

TEST_CASE("sandbox snapshot/restore and persistence to a state file") {
  auto path = std::filesystem::temp_directory_path() / ("tandem-sandbox-state-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(path);
  std::string token;
  {
    SandboxFixture f(test_config(), path.string());
    f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "keep@example.com"}}}}, 201);
    auto snap = f.call_json("GET", "/_sandbox/snapshot");
    f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "drop@example.com"}}}}, 201);
    f.call_json("POST", "/_sandbox/restore", snap);
    CHECK(f.call("GET", "/crm/v3/objects/contacts/drop@example.com?idProperty=email").status == 404);
    CHECK(f.call("GET", "/crm/v3/objects/contacts/keep@example.com?idProperty=email").status == 200);
    token = f.token;
  }  // stop() writes the state file
  REQUIRE(std::filesystem::exists(path));
  {
    SandboxFixture g(test_config(), path.string());
    CHECK(g.call("GET", "/crm/v3/objects/contacts/keep@example.com?idProperty=email").status == 200);
    // Tokens survive a restart too.
    CHECK(g.call("GET", "/crm/v3/objects/contacts", "", token).status == 200);
    auto next = g.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "n@example.com"}}}}, 201);
    CHECK(next.at("id") == "1002");  // ids continue, no reuse
  }
  std::filesystem::remove(path);
}
