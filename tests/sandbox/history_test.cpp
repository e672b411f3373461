// propertiesWithHistory on reads: every value a property had, newest first, with who wrote it
// (the shape of HubSpot's ValueWithTimestamp: value, timestamp, sourceType, sourceId?,
// updatedByUserId?).

#include <catch2/catch.hpp>

#include "common/http_client.hpp"
#include "sandbox/wire.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

// A PATCH as a person in HubSpot's UI (X-Sandbox-Acting-User).
void patch_as(SandboxFixture& f, const std::string& user, const std::string& path, const json& body) {
  http::Request request;
  request.method = "PATCH";
  request.target = path;
  request.headers.set("Authorization", "Bearer " + f.token);
  request.headers.set("Content-Type", "application/json");
  request.headers.set("X-Sandbox-Acting-User", user);
  request.body = body.dump();
  auto result = http::fetch(f.base, request);
  REQUIRE(result.has_value());
  REQUIRE(result->status == 200);
}

}  // namespace

TEST_CASE("sandbox history: values newest first with source and user on GET and batch read") {
  SandboxFixture f(test_config());
  auto created = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "h@example.com"}, {"firstname", "Ada"}}}}, 201);
  std::string id = created.at("id");
  std::string path = "/crm/v3/objects/contacts/" + id;
  std::int64_t t0 = to_epoch_ms(f.clock.now());
  f.clock.advance(std::chrono::seconds(10));
  patch_as(f, "9002", path, {{"properties", {{"firstname", "Grace"}}}});
  f.clock.advance(std::chrono::seconds(10));
  f.call_json("PATCH", path, {{"properties", {{"firstname", ""}}}});

  auto got = f.call_json("GET", path + "?properties=firstname&propertiesWithHistory=firstname,email,no_such_property");
  CHECK(got.at("properties").at("firstname").is_null());
  const auto& h = got.at("propertiesWithHistory");
  CHECK(!h.contains("no_such_property"));
  REQUIRE(h.at("firstname").size() == 3);
  const auto& cleared = h.at("firstname").at(0);
  CHECK(cleared.at("value") == "");
  CHECK(cleared.at("sourceType") == "INTEGRATION");
  CHECK(cleared.at("sourceId") == std::to_string(f.config.app.id));
  CHECK(!cleared.contains("updatedByUserId"));
  CHECK(cleared.at("timestamp") == iso8601_ms(t0 + 20'000));
  const auto& by_person = h.at("firstname").at(1);
  CHECK(by_person.at("value") == "Grace");
  CHECK(by_person.at("sourceType") == "CRM_UI");
  CHECK(by_person.at("sourceId") == "userId:9002");
  CHECK(by_person.at("updatedByUserId") == 9002);
  CHECK(by_person.at("timestamp") == iso8601_ms(t0 + 10'000));
  CHECK(h.at("firstname").at(2).at("value") == "Ada");
  CHECK(h.at("firstname").at(2).at("timestamp") == iso8601_ms(t0));
  REQUIRE(h.at("email").size() == 1);
  CHECK(h.at("email").at(0).at("value") == "h@example.com");

  // Without the parameter there is no history in the answer.
  CHECK(!f.call_json("GET", path).contains("propertiesWithHistory"));

  auto batch = f.call_json("POST", "/crm/objects/2026-03/contacts/batch/read",
                           {{"inputs", {{{"id", id}}}}, {"properties", {"email"}}, {"propertiesWithHistory", {"firstname"}}});
  CHECK(batch.at("results").at(0).at("propertiesWithHistory").at("firstname") == h.at("firstname"));
  auto list = f.call_json("GET", "/crm/v3/objects/contacts?propertiesWithHistory=firstname");
  CHECK(list.at("results").at(0).at("propertiesWithHistory").at("firstname").size() == 3);
}

TEST_CASE("sandbox history: at most 20 versions are kept and roll-ups are HubSpot's own") {
  SandboxFixture f(test_config());
  std::string id = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "busy@example.com"}}}}, 201).at("id");
  std::string path = "/crm/v3/objects/contacts/" + id;
  for (int i = 1; i <= 25; ++i) f.call_json("PATCH", path, {{"properties", {{"jobtitle", "title " + std::to_string(i)}}}});
  auto versions = f.call_json("GET", path + "?propertiesWithHistory=jobtitle").at("propertiesWithHistory").at("jobtitle");
  REQUIRE(versions.size() == 20);
  CHECK(versions.at(0).at("value") == "title 25");
  CHECK(versions.at(19).at("value") == "title 6");

  f.call_json("POST", "/crm/v3/objects/calls",
              {{"properties", {{"hs_timestamp", "2026-11-20T10:00:00Z"}}},
               {"associations", {{{"to", {{"id", id}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 194}}}}}}}},
              201);
  auto contacted = f.call_json("GET", path + "?propertiesWithHistory=notes_last_contacted").at("propertiesWithHistory").at("notes_last_contacted");
  REQUIRE(contacted.size() == 1);
  CHECK(contacted.at(0).at("sourceType") == "ENGAGEMENTS");
  CHECK(contacted.at(0).at("value") == "2026-11-20T10:00:00.000Z");

  // The state snapshot keeps the history.
  auto snapshot = f.call_json("GET", "/_sandbox/snapshot");
  f.call_json("PATCH", path, {{"properties", {{"jobtitle", "after snapshot"}}}});
  f.call("POST", "/_sandbox/restore", snapshot.dump());
  auto restored = f.call_json("GET", path + "?propertiesWithHistory=jobtitle").at("propertiesWithHistory").at("jobtitle");
  CHECK(restored == versions);
}
