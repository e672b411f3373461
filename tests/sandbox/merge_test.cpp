// POST …/contacts/merge: the primary survives with the merged record's values filling its gaps,
// the merged id (and email) find the primary, associations move, and contact.merge is delivered.

#include <catch2/catch.hpp>

#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

std::string contact(SandboxFixture& f, json properties) {
  return f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", std::move(properties)}}, 201).at("id");
}

std::string task_for(SandboxFixture& f, const std::string& cid) {
  return f.call_json("POST", "/crm/v3/objects/tasks",
                     {{"properties", {{"hs_timestamp", "2026-12-01T00:00:00Z"}, {"hs_task_subject", "Follow up"}}},
                      {"associations", {{{"to", {{"id", cid}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 204}}}}}}}},
                     201)
      .at("id");
}

}  // namespace

TEST_CASE("sandbox merge: primary survives and the merged id resolves to it on both path families") {
  SandboxFixture f(test_config());
  for (std::string prefix : {"/crm/v3/objects/contacts", "/crm/objects/2026-03/contacts"}) {
    INFO(prefix);
    std::string tag = std::to_string(prefix.size());
    std::string primary = contact(f, {{"email", "p" + tag + "@example.com"}, {"firstname", "Primary"}});
    std::string other = contact(f, {{"email", "o" + tag + "@example.com"}, {"firstname", "Other"}, {"jobtitle", "CTO"}});
    std::string task = task_for(f, other);
    f.call_json("POST", "/crm/v3/objects/calls",
                {{"properties", {{"hs_timestamp", "2026-11-20T10:00:00Z"}}},
                 {"associations", {{{"to", {{"id", other}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 194}}}}}}}},
                201);

    auto merged = f.call_json("POST", prefix + "/merge", {{"primaryObjectId", primary}, {"objectIdToMerge", other}});
    CHECK(merged.at("id") == primary);
    CHECK(merged.at("properties").at("firstname") == "Primary");  // the primary's value wins
    CHECK(merged.at("properties").at("jobtitle") == "CTO");       // the merged record's fills a gap
    CHECK(merged.at("properties").at("email") == "p" + tag + "@example.com");
    CHECK(merged.at("properties").at("hs_merged_object_ids") == other);

    auto old = f.call_json("GET", prefix + "/" + other + "?properties=firstname");
    CHECK(old.at("id") == primary);
    CHECK(f.call_json("GET", prefix + "/o" + tag + "@example.com?idProperty=email").at("id") == primary);
    // Its task and call are the primary's now, and so is the Last Contacted they give.
    auto tasks = f.call_json("GET", "/crm/v4/objects/contacts/" + primary + "/associations/tasks").at("results");
    REQUIRE(tasks.size() == 1);
    CHECK(tasks.at(0).at("toObjectId").get<std::int64_t>() == std::stoll(task));
    CHECK(f.call_json("GET", "/crm/v4/objects/tasks/" + task + "/associations/contacts").at("results").at(0).at("toObjectId").get<std::int64_t>() ==
          std::stoll(primary));
    CHECK(f.call_json("GET", prefix + "/" + primary + "?properties=notes_last_contacted").at("properties").at("notes_last_contacted") ==
          "2026-11-20T10:00:00.000Z");
    // The merged record is no longer listed.
    const auto listed = f.call_json("GET", prefix + "?limit=100");  // kept alive for the loop
    for (const auto& r : listed.at("results")) CHECK(r.at("id") != other);
  }
}

TEST_CASE("sandbox merge: errors for the same record and for missing records") {
  SandboxFixture f(test_config());
  std::string a = contact(f, {{"email", "a@example.com"}});
  auto same = f.call("POST", "/crm/v3/objects/contacts/merge", json{{"primaryObjectId", a}, {"objectIdToMerge", a}}.dump());
  CHECK(same.status == 400);
  auto missing = f.call("POST", "/crm/v3/objects/contacts/merge", json{{"primaryObjectId", a}, {"objectIdToMerge", "999999"}}.dump());
  CHECK(missing.status == 404);
  auto no_body = f.call("POST", "/crm/v3/objects/contacts/merge", json{{"primaryObjectId", a}}.dump());
  CHECK(no_body.status == 400);
  std::string read_only = f.mint_token({{"scopes", {"crm.objects.contacts.read"}}});
  std::string b = contact(f, {{"email", "b@example.com"}});
  auto forbidden = f.call("POST", "/crm/v3/objects/contacts/merge", json{{"primaryObjectId", a}, {"objectIdToMerge", b}}.dump(), read_only);
  CHECK(forbidden.status == 403);
}

TEST_CASE("sandbox merge: a merged-away primary's old merges follow it and snapshots keep the mapping") {
  SandboxFixture f(test_config());
  std::string a = contact(f, {{"email", "a@example.com"}});
  std::string b = contact(f, {{"email", "b@example.com"}});
  std::string c = contact(f, {{"email", "c@example.com"}});
  f.call_json("POST", "/crm/v3/objects/contacts/merge", {{"primaryObjectId", b}, {"objectIdToMerge", a}});
  auto last = f.call_json("POST", "/crm/v3/objects/contacts/merge", {{"primaryObjectId", c}, {"objectIdToMerge", std::stoll(b)}});
  CHECK(last.at("properties").at("hs_merged_object_ids") == b + ";" + a);
  CHECK(f.call_json("GET", "/crm/v3/objects/contacts/" + a).at("id") == c);
  auto snapshot = f.call_json("GET", "/_sandbox/snapshot");
  f.call("POST", "/_sandbox/restore", snapshot.dump());
  CHECK(f.call_json("GET", "/crm/v3/objects/contacts/" + a).at("id") == c);
}
