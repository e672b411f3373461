#include <chrono>
#include <ctime>

#include <catch2/catch.hpp>

#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

json filter(const std::string& property, const std::string& op, json value = nullptr) {
  json f = {{"propertyName", property}, {"operator", op}};
  if (op == "IN" || op == "NOT_IN") f["values"] = value;
  else if (op == "BETWEEN") {
    f["value"] = value.at(0);
    f["highValue"] = value.at(1);
  } else if (!value.is_null()) f["value"] = value;
  return f;
}

std::vector<std::string> emails(const json& result) {
  std::vector<std::string> out;
  for (const auto& r : result.at("results")) out.push_back(r.at("properties").at("email"));
  return out;
}

struct SearchFixture : SandboxFixture {
  SearchFixture() : SandboxFixture(test_config()) {
    REQUIRE(!server->seed(json::parse(R"({"contacts":[
      {"properties":{"email":"ann@alpha.com","firstname":"Ann","lifecyclestage":"lead","numemployees":"10","hs_lead_status":"NEW"}},
      {"properties":{"email":"bob@beta.com","firstname":"Bob","lifecyclestage":"marketingqualifiedlead","numemployees":"200","hs_lead_status":"OPEN","notes_last_contacted":"2026-01-10T00:00:00Z"}},
      {"properties":{"email":"cy@gamma.org","firstname":"Cy","lastname":"Smith-Jones","lifecyclestage":"customer","numemployees":"5000"}},
      {"properties":{"email":"dee@alpha.com","firstname":"dee","lifecyclestage":"lead"}}
    ]})")));
  }
  json search(const json& body, const std::string& path = "/crm/v3/objects/contacts/search") {
    return call_json("POST", path, body);
  }
  json where(json filters, json extra = json::object()) {
    extra["filterGroups"] = {{{"filters", filters}}};
    if (!extra.contains("properties")) extra["properties"] = {"email"};
    extra["sorts"] = {{{"propertyName", "email"}, {"direction", "ASCENDING"}}};
    return search(extra);
  }
};

}  // namespace

TEST_CASE_METHOD(SearchFixture, "sandbox search operators") {
  using V = std::vector<std::string>;
  CHECK(emails(where({filter("email", "EQ", "ANN@alpha.com")})) == V{"ann@alpha.com"});  // strings: case-insensitive
  CHECK(emails(where({filter("hs_lead_status", "EQ", "new")})).empty());                // enumerations: case-sensitive
  CHECK(emails(where({filter("lifecyclestage", "NEQ", "lead")})) == V{"bob@beta.com", "cy@gamma.org"});
  CHECK(emails(where({filter("numemployees", "LT", "200")})) == V{"ann@alpha.com"});
  CHECK(emails(where({filter("numemployees", "LTE", "200")})) == V{"ann@alpha.com", "bob@beta.com"});
  CHECK(emails(where({filter("numemployees", "GT", "200")})) == V{"cy@gamma.org"});
  CHECK(emails(where({filter("numemployees", "GTE", "200")})) == V{"bob@beta.com", "cy@gamma.org"});
  CHECK(emails(where({filter("numemployees", "BETWEEN", {"100", "6000"})})) == V{"bob@beta.com", "cy@gamma.org"});
  CHECK(emails(where({filter("lifecyclestage", "IN", {"customer", "marketingqualifiedlead"})})) == V{"bob@beta.com", "cy@gamma.org"});
  CHECK(emails(where({filter("lifecyclestage", "NOT_IN", {"lead"})})) == V{"bob@beta.com", "cy@gamma.org"});
  CHECK(emails(where({filter("hs_lead_status", "HAS_PROPERTY")})) == V{"ann@alpha.com", "bob@beta.com"});
  CHECK(emails(where({filter("hs_lead_status", "NOT_HAS_PROPERTY")})) == V{"cy@gamma.org", "dee@alpha.com"});
  CHECK(emails(where({filter("email", "CONTAINS_TOKEN", "alpha")})) == V{"ann@alpha.com", "dee@alpha.com"});
  CHECK(emails(where({filter("lastname", "CONTAINS_TOKEN", "jon*")})) == V{"cy@gamma.org"});
  CHECK(emails(where({filter("notes_last_contacted", "GT", "1767225600000")})) == V{"bob@beta.com"});
  CHECK(emails(where({filter("notes_last_contacted", "LT", "2026-01-05T00:00:00Z")})).empty());
  // AND within a group, OR across groups.
  CHECK(emails(where({filter("lifecyclestage", "EQ", "lead"), filter("email", "CONTAINS_TOKEN", "dee*")})) == V{"dee@alpha.com"});
  json two = {{"filterGroups", {{{"filters", {filter("firstname", "EQ", "ann")}}}, {{"filters", {filter("firstname", "EQ", "cy")}}}}},
              {"properties", {"email"}}};
  CHECK(search(two).at("total") == 2);
  CHECK(search({{"query", "bob"}}).at("total") == 1);
}

TEST_CASE_METHOD(SearchFixture, "sandbox search sorts, pages with after and returns HubSpot's shape") {
  json body = {{"sorts", {{{"propertyName", "numemployees"}, {"direction", "DESCENDING"}}}}, {"properties", {"email", "numemployees"}},
               {"limit", 2}};
  auto first = search(body, "/crm/objects/2026-03/contacts/search");
  CHECK(first.at("total") == 4);
  CHECK(emails(first) == std::vector<std::string>{"cy@gamma.org", "bob@beta.com"});
  CHECK(first.at("results").at(0).at("properties").contains("hs_object_id"));
  REQUIRE(first.at("paging").at("next").at("after") == "2");
  body["after"] = "2";
  auto second = search(body);
  CHECK(emails(second) == std::vector<std::string>{"ann@alpha.com", "dee@alpha.com"});  // unset sorts last
  CHECK(!second.contains("paging"));
  // Archived records never appear.
  auto id = search({{"filterGroups", {{{"filters", {filter("email", "EQ", "ann@alpha.com")}}}}}}).at("results").at(0).at("id");
  CHECK(call("DELETE", "/crm/v3/objects/contacts/" + id.get<std::string>()).status == 204);
  CHECK(search(json::object()).at("total") == 3);
}

TEST_CASE_METHOD(SearchFixture, "sandbox search limits: page size, 10,000 cap, filter counts, body size") {
  auto status = [&](const json& body) { return call("POST", "/crm/v3/objects/contacts/search", body.dump()).status; };
  CHECK(status({{"limit", 200}}) == 200);
  CHECK(status({{"limit", 201}}) == 400);
  CHECK(status({{"after", "9999"}}) == 200);
  CHECK(status({{"after", "10000"}}) == 400);
  json six_groups = {{"filterGroups", json::array()}};
  for (int i = 0; i < 6; ++i) six_groups["filterGroups"].push_back({{"filters", {filter("email", "HAS_PROPERTY")}}});
  CHECK(status(six_groups) == 400);
  six_groups["filterGroups"].erase(0);
  CHECK(status(six_groups) == 200);
  json seven = {{"filterGroups", {{{"filters", json::array()}}}}};
  for (int i = 0; i < 7; ++i) seven["filterGroups"][0]["filters"].push_back(filter("email", "HAS_PROPERTY"));
  CHECK(status(seven) == 400);
  json nineteen = {{"filterGroups", json::array()}};
  for (int g = 0; g < 4; ++g) {
    json fs = json::array();
    for (int i = 0; i < (g < 3 ? 5 : 4); ++i) fs.push_back(filter("email", "HAS_PROPERTY"));
    nineteen["filterGroups"].push_back({{"filters", fs}});
  }
  CHECK(status(nineteen) == 400);  // 19 filters in all
  json big = {{"query", std::string(3000, 'a')}};
  CHECK(status(big) == 400);
  CHECK(status({{"filterGroups", {{{"filters", {filter("nope", "EQ", "x")}}}}}}) == 400);
  CHECK(status({{"filterGroups", {{{"filters", {filter("email", "LIKE", "x")}}}}}}) == 400);
}

// Speed at this size is measured by bench/sandbox (seed, search, batch update), not here.
TEST_CASE("sandbox holds 100k contacts: seed, search and batch update stay correct at that size") {
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer at -O0 seeding 100k contacts takes over 30 s (the client's deadline);
  // the release run covers this test.
  WARN("skipped under AddressSanitizer: 100k contacts take longer than the request deadline");
  return;
#endif
  auto cfg = test_config();
  SandboxFixture f(cfg);
  json contacts = json::array();
  for (int i = 0; i < 100'000; ++i)
    contacts.push_back({{"properties", {{"email", "c" + std::to_string(i) + "@load.example"}, {"firstname", "C"},
                                        {"lifecyclestage", i % 2 ? "lead" : "subscriber"}, {"numemployees", std::to_string(i % 1000)}}}});
  std::string body = json{{"contacts", contacts}}.dump();
  auto r = f.call("POST", "/_sandbox/seed", body, "");
  REQUIRE(r.status == 200);
  INFO(r.body);
  CHECK(json::parse(r.body).at("contacts") == 100'000);

  auto s = f.call_json("POST", "/crm/v3/objects/contacts/search",
                       {{"filterGroups", {{{"filters", {filter("numemployees", "GTE", "990"), filter("lifecyclestage", "EQ", "lead")}}}}},
                        {"sorts", {{{"propertyName", "createdate"}, {"direction", "DESCENDING"}}}}, {"limit", 100}});
  CHECK(s.at("total") == 500);

  json inputs = json::array();
  for (int i = 0; i < 100; ++i) inputs.push_back({{"id", std::to_string(1001 + i * 997)}, {"properties", {{"hs_lead_status", "OPEN"}}}});
  auto updated = f.call_json("POST", "/crm/v3/objects/contacts/batch/update", {{"inputs", inputs}});
  CHECK(updated.at("results").size() == 100);
}

TEST_CASE("sandbox search: writes become visible to search only after searchIndexDelayMs") {
  auto cfg = test_config();
  cfg.limits.search_index_delay_ms = 2000;
  SandboxFixture f(cfg);
  auto by_email = [&](const std::string& email) {
    return f.call_json("POST", "/crm/v3/objects/contacts/search",
                       {{"filterGroups", {{{"filters", {filter("email", "EQ", email)}}}}}, {"properties", {"email", "firstname"}}});
  };
  auto created = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "late@x.com"}, {"firstname", "Old"}}}}, 201);
  std::string id = created.at("id");
  // Not indexed yet: search does not find it, a read by id does.
  CHECK(by_email("late@x.com").at("total") == 0);
  CHECK(f.call_json("GET", "/crm/v3/objects/contacts/" + id).at("id") == id);
  f.clock.advance(std::chrono::milliseconds(1999));
  CHECK(by_email("late@x.com").at("total") == 0);
  f.clock.advance(std::chrono::milliseconds(1));
  REQUIRE(by_email("late@x.com").at("total") == 1);

  // An update: search keeps the old values until the delay has passed.
  f.call_json("PATCH", "/crm/v3/objects/contacts/" + id, {{"properties", {{"firstname", "New"}}}});
  CHECK(f.call_json("GET", "/crm/v3/objects/contacts/" + id + "?properties=firstname").at("properties").at("firstname") == "New");
  auto before = by_email("late@x.com");
  REQUIRE(before.at("total") == 1);
  CHECK(before.at("results").at(0).at("properties").at("firstname") == "Old");
  f.clock.advance(std::chrono::milliseconds(2000));
  CHECK(by_email("late@x.com").at("results").at(0).at("properties").at("firstname") == "New");
}

TEST_CASE("sandbox search: the index delay can be changed at run time through /_sandbox/limits") {
  SandboxFixture f(test_config());
  CHECK(f.call_json("GET", "/_sandbox/limits").at("searchIndexDelayMs") == 0);
  CHECK(f.call_json("PUT", "/_sandbox/limits", {{"searchIndexDelayMs", 500}}).at("searchIndexDelayMs") == 500);
  f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "rt@x.com"}}}}, 201);
  json body = {{"filterGroups", {{{"filters", {filter("email", "EQ", "rt@x.com")}}}}}};
  CHECK(f.call_json("POST", "/crm/v3/objects/contacts/search", body).at("total") == 0);
  f.clock.advance(std::chrono::milliseconds(500));
  CHECK(f.call_json("POST", "/crm/v3/objects/contacts/search", body).at("total") == 1);
  CHECK(f.call("PUT", "/_sandbox/limits", R"({"searchIndexDelayMs":-1})", "").status == 400);
}
