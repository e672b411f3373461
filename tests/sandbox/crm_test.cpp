#include <set>

#include <catch2/catch.hpp>

#include "tests/sandbox/sandbox_fixture.hpp"
#include "tests/support/read_file_or_fail.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

json contact(const std::string& email, json extra = json::object()) {
  extra["email"] = email;
  return {{"properties", extra}};
}

}  // namespace

TEST_CASE("sandbox contacts: create, get, update, archive on both path families with HubSpot's shapes") {
  SandboxFixture f(test_config());
  for (std::string prefix : {"/crm/v3/objects/contacts", "/crm/objects/2026-03/contacts"}) {
    std::string email = "ada" + std::to_string(prefix.size()) + "@example.com";
    auto created = f.call_json("POST", prefix, contact(email, {{"firstname", "Ada"}, {"numemployees", 50}}), 201);
    std::string id = created.at("id");
    CHECK(created.at("properties").at("email") == email);
    CHECK(created.at("properties").at("numemployees") == "50");  // values are strings on the wire
    CHECK(created.at("properties").at("hs_object_id") == id);
    CHECK(created.at("archived") == false);
    CHECK_THAT(created.at("createdAt").get<std::string>(), Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));

    auto got = f.call_json("GET", prefix + "/" + id + "?properties=firstname,hs_lead_status");
    CHECK(got.at("properties").at("firstname") == "Ada");
    CHECK(got.at("properties").at("hs_lead_status").is_null());
    auto by_email = f.call_json("GET", prefix + "/" + email + "?idProperty=email");
    CHECK(by_email.at("id") == id);

    auto updated = f.call_json("PATCH", prefix + "/" + id, {{"properties", {{"hs_lead_status", "OPEN"}, {"firstname", ""}}}});
    CHECK(updated.at("properties").at("hs_lead_status") == "OPEN");
    CHECK(!updated.at("properties").contains("firstname"));  // cleared with ""

    CHECK(f.call("DELETE", prefix + "/" + id).status == 204);
    auto gone = f.call("GET", prefix + "/" + id);
    CHECK(gone.status == 404);
    CHECK(json::parse(gone.body).at("category") == "OBJECT_NOT_FOUND");
    CHECK(f.call_json("GET", prefix + "/" + id + "?archived=true").at("archived") == true);
  }
}

TEST_CASE("sandbox contacts: property validation like HubSpot") {
  SandboxFixture f(test_config());
  auto unknown = f.call("POST", "/crm/v3/objects/contacts", contact("a@b.com", {{"favourite_colour", "red"}}).dump());
  REQUIRE(unknown.status == 400);
  auto u = json::parse(unknown.body);
  CHECK(u.at("category") == "VALIDATION_ERROR");
  CHECK(u.at("errors").at(0).at("code") == "PROPERTY_DOESNT_EXIST");
  CHECK_THAT(u.at("message").get<std::string>(), Catch::StartsWith("Property values were not valid: "));

  auto option = f.call("POST", "/crm/v3/objects/contacts", contact("a@b.com", {{"hs_lead_status", "open"}}).dump());
  REQUIRE(option.status == 400);
  CHECK(json::parse(option.body).at("errors").at(0).at("code") == "INVALID_OPTION");

  auto owner = f.call("POST", "/crm/v3/objects/contacts", contact("a@b.com", {{"hubspot_owner_id", "999"}}).dump());
  CHECK(json::parse(owner.body).at("errors").at(0).at("code") == "INVALID_OPTION");

  auto ro = f.call("POST", "/crm/v3/objects/contacts", contact("a@b.com", {{"notes_last_contacted", "2026-01-01"}}).dump());
  CHECK(json::parse(ro.body).at("errors").at(0).at("code") == "READ_ONLY_VALUE");

  auto email = f.call("POST", "/crm/v3/objects/contacts", contact("not-an-email").dump());
  CHECK(json::parse(email.body).at("errors").at(0).at("code") == "INVALID_EMAIL");

  auto empty = f.call("POST", "/crm/v3/objects/contacts", R"({"properties":{"phone":"123"}})");
  CHECK(empty.status == 400);

  auto broken = f.call("POST", "/crm/v3/objects/contacts", "{not json");
  CHECK(broken.status == 400);
  CHECK(json::parse(broken.body).at("category") == "VALIDATION_ERROR");
}

TEST_CASE("sandbox contacts: 409 on a duplicate email, on create and on update") {
  SandboxFixture f(test_config());
  auto first = f.call_json("POST", "/crm/v3/objects/contacts", contact("dup@example.com"), 201);
  auto again = f.call("POST", "/crm/v3/objects/contacts", contact("DUP@example.com").dump());
  REQUIRE(again.status == 409);
  auto body = json::parse(again.body);
  CHECK(body.at("category") == "CONFLICT");
  CHECK(body.at("message") == "Contact already exists. Existing ID: " + first.at("id").get<std::string>());
  auto other = f.call_json("POST", "/crm/v3/objects/contacts", contact("other@example.com"), 201);
  auto clash = f.call("PATCH", "/crm/v3/objects/contacts/" + other.at("id").get<std::string>(), contact("dup@example.com").dump());
  CHECK(clash.status == 409);
}

TEST_CASE("sandbox contacts: lifecyclestage only moves forward unless cleared first") {
  SandboxFixture f(test_config());
  auto c = f.call_json("POST", "/crm/v3/objects/contacts", contact("lc@example.com", {{"lifecyclestage", "lead"}}), 201);
  std::string path = "/crm/v3/objects/contacts/" + c.at("id").get<std::string>();
  auto stage = [&] { return f.call_json("GET", path + "?properties=lifecyclestage").at("properties").at("lifecyclestage"); };
  f.call_json("PATCH", path, {{"properties", {{"lifecyclestage", "salesqualifiedlead"}}}});
  CHECK(stage() == "salesqualifiedlead");
  // Backwards: HubSpot answers 200 and keeps the value.
  f.call_json("PATCH", path, {{"properties", {{"lifecyclestage", "lead"}}}});
  CHECK(stage() == "salesqualifiedlead");
  // Batch update obeys the same rule.
  f.call_json("POST", "/crm/v3/objects/contacts/batch/update",
              {{"inputs", {{{"id", c.at("id")}, {"properties", {{"lifecyclestage", "subscriber"}}}}}}});
  CHECK(stage() == "salesqualifiedlead");
  // Clear, then set an earlier stage in a separate request.
  f.call_json("PATCH", path, {{"properties", {{"lifecyclestage", ""}}}});
  CHECK(stage().is_null());
  f.call_json("PATCH", path, {{"properties", {{"lifecyclestage", "lead"}}}});
  CHECK(stage() == "lead");

  auto cfg = test_config();
  cfg.lifecycle_backwards = "reject";
  SandboxFixture strict(cfg);
  auto s = strict.call_json("POST", "/crm/v3/objects/contacts", contact("s@example.com", {{"lifecyclestage", "customer"}}), 201);
  auto back = strict.call("PATCH", "/crm/v3/objects/contacts/" + s.at("id").get<std::string>(),
                          R"({"properties":{"lifecyclestage":"lead"}})");
  CHECK(back.status == 400);
}

TEST_CASE("sandbox batch: more than 100 inputs is a 400, and nothing is written") {
  SandboxFixture f(test_config());
  json inputs = json::array();
  for (int i = 0; i < 101; ++i) inputs.push_back(contact("b" + std::to_string(i) + "@example.com"));
  for (std::string op : {"create", "update", "read", "upsert", "archive"}) {
    auto r = f.call("POST", "/crm/v3/objects/contacts/batch/" + op, json{{"inputs", inputs}}.dump());
    INFO(op);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body).at("category") == "VALIDATION_ERROR");
  }
  inputs.erase(inputs.begin());
  auto ok = f.call_json("POST", "/crm/v3/objects/contacts/batch/create", {{"inputs", inputs}}, 201);
  CHECK(ok.at("status") == "COMPLETE");
  CHECK(ok.at("results").size() == 100);
  CHECK(ok.contains("startedAt"));
  CHECK(ok.contains("completedAt"));
}

TEST_CASE("sandbox batch: 207 multi-status on partial failures") {
  SandboxFixture f(test_config());
  auto a = f.call_json("POST", "/crm/v3/objects/contacts", contact("a@example.com"), 201);

  SECTION("batch update with a missing id applies the rest and reports the missing one") {
    auto r = f.call_json("POST", "/crm/objects/2026-03/contacts/batch/update",
                         {{"inputs", {{{"id", a.at("id")}, {"properties", {{"hs_lead_status", "NEW"}}}},
                                      {{"id", "987654"}, {"properties", {{"hs_lead_status", "NEW"}}}}}}},
                         207);
    CHECK(r.at("numErrors") == 1);
    CHECK(r.at("errors").at(0).at("category") == "OBJECT_NOT_FOUND");
    CHECK(r.at("errors").at(0).at("context").at("ids").at(0) == "987654");
    CHECK(r.at("results").size() == 1);
  }
  SECTION("batch create: without objectWriteTraceId one bad input fails the whole batch") {
    auto r = f.call("POST", "/crm/v3/objects/contacts/batch/create",
                    json{{"inputs", {contact("new1@example.com"), contact("a@example.com")}}}.dump());
    CHECK(r.status == 409);
    CHECK(f.call("GET", "/crm/v3/objects/contacts/new1@example.com?idProperty=email").status == 404);
  }
  SECTION("batch create: with objectWriteTraceIds the valid inputs are created and the rest reported") {
    json good = contact("new2@example.com");
    good["objectWriteTraceId"] = "t1";
    json bad = contact("b@example.com", {{"hs_lead_status", "nope"}});
    bad["objectWriteTraceId"] = "t2";
    auto r = f.call_json("POST", "/crm/v3/objects/contacts/batch/create", {{"inputs", {good, bad}}}, 207);
    CHECK(r.at("numErrors") == 1);
    CHECK(r.at("errors").at(0).at("context").at("objectWriteTraceId").at(0) == "t2");
    CHECK(r.at("errors").at(0).at("status") == "error");
    CHECK(r.at("results").at(0).at("objectWriteTraceId") == "t1");
  }
  SECTION("batch read reports missing ids with 207") {
    auto r = f.call_json("POST", "/crm/v3/objects/contacts/batch/read",
                         {{"properties", {"email"}}, {"inputs", {{{"id", a.at("id")}}, {{"id", "5555"}}}}}, 207);
    CHECK(r.at("results").at(0).at("properties").at("email") == "a@example.com");
    CHECK(r.at("errors").at(0).at("category") == "OBJECT_NOT_FOUND");
  }
  SECTION("batch upsert by email creates and updates, with the new flag") {
    auto r = f.call_json("POST", "/crm/v3/objects/contacts/batch/upsert",
                         {{"inputs", {{{"id", "a@example.com"}, {"idProperty", "email"}, {"properties", {{"firstname", "A"}}}},
                                      {{"id", "z@example.com"}, {"idProperty", "email"}, {"properties", {{"firstname", "Z"}}}}}}});
    CHECK(r.at("results").at(0).at("new") == false);
    CHECK(r.at("results").at(1).at("new") == true);
    CHECK(r.at("results").at(1).at("properties").at("email") == "z@example.com");
  }
}

TEST_CASE("sandbox tasks: create with an association to a contact (type 204), enumerations, required due date") {
  SandboxFixture f(test_config());
  auto c = f.call_json("POST", "/crm/v3/objects/contacts", contact("t@example.com"), 201);
  std::string cid = c.at("id");
  json task = {{"properties",
                {{"hs_timestamp", "2026-11-30T09:00:00Z"}, {"hs_task_subject", "Follow up"}, {"hs_task_type", "CALL"},
                 {"hs_task_priority", "HIGH"}, {"hubspot_owner_id", "202"}}},
               {"associations", {{{"to", {{"id", cid}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 204}}}}}}}};
  auto t = f.call_json("POST", "/crm/objects/2026-03/tasks", task, 201);
  std::string tid = t.at("id");
  CHECK(t.at("properties").at("hs_timestamp") == "2026-11-30T09:00:00.000Z");
  CHECK(t.at("properties").at("hs_task_status") == "NOT_STARTED");

  auto v4 = f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/tasks");
  REQUIRE(v4.at("results").size() == 1);
  CHECK(v4.at("results").at(0).at("toObjectId") == std::stoll(tid));
  CHECK(v4.at("results").at(0).at("associationTypes").at(0).at("typeId") == 203);
  auto back = f.call_json("GET", "/crm/objects/2026-03/tasks/" + tid + "/associations/contacts");
  CHECK(back.at("results").at(0).at("associationTypes").at(0).at("typeId") == 204);
  auto with = f.call_json("GET", "/crm/v3/objects/contacts/" + cid + "?associations=tasks");
  CHECK(with.at("associations").at("tasks").at("results").at(0).at("id") == tid);
  auto batch = f.call_json("POST", "/crm/v4/associations/contacts/tasks/batch/read", {{"inputs", {{{"id", cid}}}}});
  CHECK(batch.at("results").at(0).at("to").at(0).at("toObjectId") == std::stoll(tid));

  task["associations"][0]["types"][0]["associationTypeId"] = 999;
  CHECK(f.call("POST", "/crm/v3/objects/tasks", task.dump()).status == 400);
  json bad_type = {{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_task_type", "MEETING"}}}};
  CHECK(json::parse(f.call("POST", "/crm/v3/objects/tasks", bad_type.dump()).body).at("errors").at(0).at("code") == "INVALID_OPTION");
  json no_due = {{"properties", {{"hs_task_subject", "x"}}}};
  CHECK(f.call("POST", "/crm/v3/objects/tasks", no_due.dump()).status == 400);

  // v3 association PUT and DELETE.
  auto t2 = f.call_json("POST", "/crm/v3/objects/tasks", {{"properties", {{"hs_timestamp", "1767225600000"}}}}, 201);
  std::string t2id = t2.at("id");
  CHECK(f.call("PUT", "/crm/v3/objects/tasks/" + t2id + "/associations/contacts/" + cid + "/task_to_contact").status == 200);
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/tasks").at("results").size() == 2);
  CHECK(f.call("DELETE", "/crm/v3/objects/tasks/" + t2id + "/associations/contacts/" + cid + "/204").status == 204);
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/tasks").at("results").size() == 1);
}

TEST_CASE("sandbox lists page with after, and owners list/get") {
  SandboxFixture f(test_config());
  for (int i = 0; i < 25; ++i) f.call_json("POST", "/crm/v3/objects/contacts", contact("p" + std::to_string(i) + "@example.com"), 201);
  std::set<std::string> seen;
  std::string after;
  int pages = 0;
  do {
    auto page = f.call_json("GET", "/crm/v3/objects/contacts?limit=10" + (after.empty() ? "" : "&after=" + after));
    for (const auto& r : page.at("results")) seen.insert(r.at("id").get<std::string>());
    after = page.contains("paging") ? page.at("paging").at("next").at("after").get<std::string>() : "";
    ++pages;
  } while (!after.empty());
  CHECK(seen.size() == 25);
  CHECK(pages == 3);
  CHECK(f.call("GET", "/crm/v3/objects/contacts?limit=101").status == 400);

  auto owners = f.call_json("GET", "/crm/v3/owners/");
  CHECK(owners.at("results").size() == 4);  // the archived owner is listed only with archived=true
  CHECK(owners.at("results").at(0).at("teams").at(0).at("primary") == true);
  auto archived = f.call_json("GET", "/crm/owners/2026-03?archived=true");
  REQUIRE(archived.at("results").size() == 1);
  CHECK(archived.at("results").at(0).at("userId").is_null());
  CHECK(f.call_json("GET", "/crm/v3/owners/202").at("email") == "rick.rep@sandbox.example.com");
  CHECK(f.call_json("GET", "/crm/v3/owners/9003?idProperty=userId").at("id") == "203");
  CHECK(f.call_json("GET", "/crm/v3/owners?email=RICK.rep@sandbox.example.com").at("results").size() == 1);
  CHECK(f.call("GET", "/crm/v3/owners/999").status == 404);
  auto prop = f.call_json("GET", "/crm/v3/properties/contacts/lifecyclestage");
  CHECK(prop.at("options").at(0).at("value") == "subscriber");
}

TEST_CASE("sandbox portals are isolated: data, tokens and rate limits are per account") {
  auto cfg = test_config();
  cfg.limits.ten_secondly = 2;
  PortalConfig second = cfg.portals.at(0);
  second.id = 87654321;
  second.domain = "second.tandem.local";
  cfg.portals.push_back(second);
  SandboxFixture f(cfg);
  std::string other = f.mint_token({{"portalId", 87654321}});
  auto c = f.call("POST", "/crm/v3/objects/contacts", R"({"properties":{"email":"iso@example.com"}})");
  REQUIRE(c.status == 201);
  CHECK(f.call("GET", "/crm/v3/objects/contacts/iso@example.com?idProperty=email", "", other).status == 404);
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);
  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 429);  // portal 1 spent its 2 requests
  CHECK(f.call("POST", "/crm/v3/objects/contacts", R"({"properties":{"email":"iso@example.com"}})", other).status == 201);
  // Authorize can install into the second account.
  auto r = f.call("GET", "/oauth/87654321/authorize?client_id=" + cfg.app.client_id +
                             "&scope=oauth%20crm.objects.contacts.read%20crm.objects.contacts.write%20crm.objects.owners.read"
                             "%20crm.schemas.contacts.write"
                             "&redirect_uri=" + http::form_encode(cfg.app.redirect_urls[0]), "", "");
  REQUIRE(r.status == 302);
  std::string location(*r.headers.get("Location"));
  std::string code = location.substr(location.find("code=") + 5);
  auto t = f.call("POST", "/oauth/v1/token",
                  "grant_type=authorization_code&client_id=" + cfg.app.client_id + "&client_secret=" +
                      http::form_encode(cfg.app.client_secret) + "&redirect_uri=" + http::form_encode(cfg.app.redirect_urls[0]) +
                      "&code=" + code,
                  "", "application/x-www-form-urlencoded");
  REQUIRE(t.status == 200);
  CHECK(json::parse(t.body).at("hub_id") == 87654321);
}

TEST_CASE("sandbox archive removes associations and frees the email") {
  SandboxFixture f(test_config());
  auto c = f.call_json("POST", "/crm/v3/objects/contacts", contact("del@example.com"), 201);
  std::string cid = c.at("id");
  auto t = f.call_json("POST", "/crm/v3/objects/tasks",
                       {{"properties", {{"hs_timestamp", "1767225600000"}}},
                        {"associations", {{{"to", {{"id", cid}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 204}}}}}}}},
                       201);
  CHECK(f.call_json("POST", "/crm/v3/objects/contacts/batch/archive", {{"inputs", {{{"id", cid}}}}}, 204).is_null());
  CHECK(f.call_json("GET", "/crm/v4/objects/tasks/" + t.at("id").get<std::string>() + "/associations/contacts").at("results").empty());
  // The email is free again once the contact is archived.
  f.call_json("POST", "/crm/v3/objects/contacts", contact("del@example.com"), 201);
}

TEST_CASE("sandbox batch update rejects duplicate ids") {
  SandboxFixture f(test_config());
  auto a = f.call_json("POST", "/crm/v3/objects/contacts", contact("dupid@example.com"), 201);
  auto r = f.call("POST", "/crm/v3/objects/contacts/batch/update",
                  json{{"inputs", {{{"id", a.at("id")}, {"properties", {{"hs_lead_status", "NEW"}}}},
                                   {{"id", a.at("id")}, {"properties", {{"hs_lead_status", "OPEN"}}}}}}}.dump());
  CHECK(r.status == 400);
  CHECK(f.call_json("GET", "/crm/v3/objects/contacts/" + a.at("id").get<std::string>() + "?properties=hs_lead_status")
            .at("properties").at("hs_lead_status").is_null());
}

TEST_CASE("sandbox seed file: owners, teams, contacts with ids and read-only values, tasks with associations") {
  SandboxFixture f(test_config());
  const std::string seed = tandem::testing::read_file_or_fail(std::string(TANDEM_TEST_DATA_DIR) + "/sandbox/seed.json");
  auto error = f.server->seed(json::parse(seed));
  REQUIRE(!error);
  auto lena = f.call_json("GET", "/crm/v3/objects/contacts/5001?properties=notes_last_contacted,hs_analytics_source");
  CHECK(lena.at("properties").at("notes_last_contacted") == "2026-10-01T10:00:00.000Z");
  CHECK(lena.at("createdAt") == "2026-09-15T08:30:00.000Z");
  CHECK(f.call_json("GET", "/crm/v3/owners/206").at("teams").at(0).at("name") == "Partner Sales");
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/5002/associations/tasks").at("results").size() == 1);
  // New ids continue after the seeded ones.
  auto next = f.call_json("POST", "/crm/v3/objects/contacts", contact("after-seed@example.com"), 201);
  CHECK(std::stoll(next.at("id").get<std::string>()) > 5002);
  // A seed with a mistake is rejected with a message naming the record.
  auto bad = f.server->seed(json::parse(R"({"contacts":[{"properties":{"email":"x@example.com","hs_lead_status":"MAYBE"}}]})"));
  REQUIRE(bad);
  CHECK_THAT(*bad, Catch::Contains("seed contacts[0]"));
}
