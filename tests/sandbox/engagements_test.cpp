// Calls, emails, meetings and notes as CRM objects. The association type ids and object type
// ids below are taken from HubSpot's documentation (associate-records guide, "Association type
// ID values"; understanding-the-crm, "Object type IDs"), not from the sandbox's code.

#include <catch2/catch.hpp>

#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

struct Kind {
  std::string type;       // path segment
  std::string type_id;    // objectTypeId
  int to_contact;         // engagement -> contact
  int from_contact;       // contact -> engagement
  json properties;        // a valid create body's properties
  std::string edit_name;  // a property to PATCH
};

std::vector<Kind> kinds() {
  return {
      {"calls", "0-48", 194, 193,
       {{"hs_timestamp", "2026-11-20T10:00:00Z"}, {"hs_call_title", "Intro call"}, {"hs_call_body", "Talked budget"},
        {"hs_call_direction", "OUTBOUND"}, {"hs_call_status", "COMPLETED"}, {"hs_call_duration", "3800"}},
       "hs_call_body"},
      {"emails", "0-49", 198, 197,
       {{"hs_timestamp", "2026-11-20T10:00:00Z"}, {"hs_email_direction", "EMAIL"}, {"hs_email_status", "SENT"},
        {"hs_email_subject", "Let's talk"}, {"hs_email_text", "Thanks for your interest"}},
       "hs_email_subject"},
      {"meetings", "0-47", 200, 199,
       {{"hs_timestamp", "2026-11-20T10:00:00Z"}, {"hs_meeting_title", "Intro meeting"},
        {"hs_meeting_start_time", "2026-11-20T10:00:00Z"}, {"hs_meeting_end_time", "2026-11-20T10:30:00Z"},
        {"hs_meeting_outcome", "SCHEDULED"}},
       "hs_meeting_title"},
      {"notes", "0-46", 202, 201, {{"hs_timestamp", "2026-11-20T10:00:00Z"}, {"hs_note_body", "Spoke with Carla"}}, "hs_note_body"},
  };
}

json with_contact(json properties, const std::string& contact_id, int type_id) {
  return {{"properties", std::move(properties)},
          {"associations",
           {{{"to", {{"id", contact_id}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", type_id}}}}}}}};
}

// A token with the sales-email-read scope the emails API lists beside the contacts scopes.
std::string engagement_token(SandboxFixture& f) {
  auto scopes = f.config.app.required_scopes;
  scopes.push_back("sales-email-read");
  return f.mint_token({{"scopes", scopes}});
}

std::string new_contact(SandboxFixture& f, const std::string& email) {
  return f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", email}}}}, 201).at("id");
}

}  // namespace

TEST_CASE("sandbox engagements: create with a contact association then get list PATCH on both path families") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  for (const auto& k : kinds()) {
    for (std::string prefix : {"/crm/v3/objects/", "/crm/objects/2026-03/"}) {
      INFO(prefix << k.type);
      std::string cid = new_contact(f, k.type + std::to_string(prefix.size()) + "@example.com");
      auto created = f.call_json("POST", prefix + k.type, with_contact(k.properties, cid, k.to_contact), 201);
      std::string id = created.at("id");
      CHECK(created.at("properties").at("hs_object_id") == id);
      CHECK(created.at("properties").at("hs_timestamp") == "2026-11-20T10:00:00.000Z");
      CHECK(created.at("properties").contains("hs_createdate"));

      auto got = f.call_json("GET", prefix + k.type + "/" + id + "?properties=" + k.edit_name + "&associations=contacts");
      CHECK(got.at("properties").at(k.edit_name) == k.properties.at(k.edit_name));
      CHECK(got.at("associations").at("contacts").at("results").at(0).at("id") == cid);
      // The object type id names the same resource.
      CHECK(f.call_json("GET", prefix + k.type_id + "/" + id).at("id") == id);

      // Seen from the contact: HubSpot's contact -> engagement type id.
      auto v4 = f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/" + k.type);
      REQUIRE(v4.at("results").size() == 1);
      CHECK(v4.at("results").at(0).at("toObjectId").get<std::int64_t>() == std::stoll(id));
      CHECK(v4.at("results").at(0).at("associationTypes").at(0).at("typeId") == k.from_contact);
      auto contact = f.call_json("GET", "/crm/v3/objects/contacts/" + cid + "?associations=" + k.type);
      CHECK(contact.at("associations").at(k.type).at("results").at(0).at("id") == id);

      auto patched = f.call_json("PATCH", prefix + k.type + "/" + id, {{"properties", {{k.edit_name, "changed"}}}});
      CHECK(patched.at("properties").at(k.edit_name) == "changed");

      auto list = f.call_json("GET", prefix + k.type + "?limit=100");
      bool listed = false;
      for (const auto& r : list.at("results")) listed = listed || r.at("id") == id;
      CHECK(listed);
    }
  }
}

TEST_CASE("sandbox engagements: batch create read and update") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  for (const auto& k : kinds()) {
    INFO(k.type);
    std::string cid = new_contact(f, "batch-" + k.type + "@example.com");
    json inputs = json::array({with_contact(k.properties, cid, k.to_contact), {{"properties", k.properties}}});
    auto created = f.call_json("POST", "/crm/v3/objects/" + k.type + "/batch/create", {{"inputs", inputs}}, 201);
    REQUIRE(created.at("results").size() == 2);
    std::string a = created.at("results").at(0).at("id");
    std::string b = created.at("results").at(1).at("id");
    CHECK(f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/" + k.type).at("results").size() == 1);

    auto updated = f.call_json("POST", "/crm/objects/2026-03/" + k.type + "/batch/update",
                               {{"inputs", {{{"id", a}, {"properties", {{k.edit_name, "batch edit"}}}}}}});
    CHECK(updated.at("results").at(0).at("properties").at(k.edit_name) == "batch edit");

    auto read = f.call_json("POST", "/crm/v3/objects/" + k.type + "/batch/read",
                            {{"inputs", {{{"id", a}}, {{"id", b}}}}, {"properties", {k.edit_name}}});
    REQUIRE(read.at("results").size() == 2);
    for (const auto& r : read.at("results"))
      CHECK(r.at("properties").at(k.edit_name) == (r.at("id") == a ? json("batch edit") : k.properties.at(k.edit_name)));
  }
}

TEST_CASE("sandbox engagements: hs_timestamp is required and a meeting falls back to its start time") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  for (const auto& k : kinds()) {
    json props = k.properties;
    props.erase("hs_timestamp");
    if (k.type == "meetings") {
      auto m = f.call_json("POST", "/crm/v3/objects/meetings", {{"properties", props}}, 201);
      CHECK(m.at("properties").at("hs_timestamp") == "2026-11-20T10:00:00.000Z");
      props.erase("hs_meeting_start_time");
    }
    auto r = f.call("POST", "/crm/v3/objects/" + k.type, json{{"properties", props}}.dump());
    INFO(k.type << " " << r.body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body).at("errors").at(0).at("code") == "REQUIRED_PROPERTY");
  }
}

TEST_CASE("sandbox engagements: enumerations and association types are validated") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  std::string cid = new_contact(f, "v@example.com");
  auto bad_direction = f.call("POST", "/crm/v3/objects/calls",
                              json{{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_call_direction", "SIDEWAYS"}}}}.dump());
  CHECK(bad_direction.status == 400);
  CHECK(json::parse(bad_direction.body).at("errors").at(0).at("code") == "INVALID_OPTION");
  auto bad_email = f.call("POST", "/crm/v3/objects/emails",
                          json{{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_email_direction", "OUTGOING"}}}}.dump());
  CHECK(bad_email.status == 400);
  // A call associated with the task type id (204) is refused; so is a read-only property.
  auto wrong_type = f.call("POST", "/crm/v3/objects/calls", with_contact({{"hs_timestamp", "1767225600000"}}, cid, 204).dump());
  CHECK(wrong_type.status == 400);
  auto ro = f.call("POST", "/crm/v3/objects/emails",
                   json{{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_email_from_email", "x@y.com"}}}}.dump());
  CHECK(ro.status == 400);
  CHECK(json::parse(ro.body).at("errors").at(0).at("code") == "READ_ONLY_VALUE");
  auto long_note = f.call("POST", "/crm/v3/objects/notes",
                          json{{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_note_body", std::string(65'537, 'x')}}}}.dump());
  CHECK(long_note.status == 400);
  auto fits = f.call("POST", "/crm/v3/objects/notes",
                     json{{"properties", {{"hs_timestamp", "1767225600000"}, {"hs_note_body", std::string(65'536, 'x')}}}}.dump());
  CHECK(fits.status == 201);
}

TEST_CASE("sandbox engagements: associate later by type id or label and remove again") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  std::string cid = new_contact(f, "later@example.com");
  for (const auto& k : kinds()) {
    INFO(k.type);
    std::string id = f.call_json("POST", "/crm/objects/2026-03/" + k.type, {{"properties", k.properties}}, 201).at("id");
    std::string singular = k.type.substr(0, k.type.size() - 1);
    CHECK(f.call("PUT", "/crm/objects/2026-03/" + k.type + "/" + id + "/associations/contact/" + cid + "/" +
                            std::to_string(k.to_contact))
              .status == 200);
    CHECK(f.call_json("GET", "/crm/v4/objects/" + k.type + "/" + id + "/associations/contacts").at("results").size() == 1);
    CHECK(f.call("DELETE", "/crm/v3/objects/" + k.type + "/" + id + "/associations/contacts/" + cid + "/" +
                               std::to_string(k.to_contact))
              .status == 204);
    CHECK(f.call_json("GET", "/crm/v4/objects/" + k.type + "/" + id + "/associations/contacts").at("results").empty());
    CHECK(f.call("PUT", "/crm/v3/objects/" + k.type + "/" + id + "/associations/contacts/" + cid + "/" + singular + "_to_contact")
              .status == 200);
    // Another engagement's type id is not valid here.
    int other = k.to_contact == 194 ? 198 : 194;
    CHECK(f.call("PUT", "/crm/v3/objects/" + k.type + "/" + id + "/associations/contacts/" + cid + "/" + std::to_string(other))
              .status == 400);
  }
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/notes").at("results").size() == 1);
}

TEST_CASE("sandbox engagements: the contacts scopes, and for emails also sales-email-read") {
  SandboxFixture f(test_config());  // the fixture's token has the default scopes, without sales-email-read
  auto call = f.call("POST", "/crm/v3/objects/calls", json{{"properties", {{"hs_timestamp", "1767225600000"}}}}.dump());
  CHECK(call.status == 201);
  auto email = f.call("POST", "/crm/v3/objects/emails", json{{"properties", {{"hs_timestamp", "1767225600000"}}}}.dump());
  CHECK(email.status == 403);
  CHECK(json::parse(email.body).at("category") == "MISSING_SCOPES");
  CHECK(f.call("GET", "/crm/v3/objects/emails").status == 403);
  std::string read_only = f.mint_token({{"scopes", {"crm.objects.contacts.read"}}});
  CHECK(f.call("GET", "/crm/v3/objects/notes", "", read_only).status == 200);
  CHECK(f.call("POST", "/crm/v3/objects/notes", json{{"properties", {{"hs_timestamp", "1767225600000"}}}}.dump(), read_only).status ==
        403);
}

TEST_CASE("sandbox engagements: seeds and snapshots carry them") {
  SandboxFixture f(test_config());
  f.token = engagement_token(f);
  auto seeded = f.call_json("POST", "/_sandbox/seed",
                            {{"contacts", {{{"id", 7001}, {"properties", {{"email", "seed@example.com"}}}}}},
                             {"calls", {{{"properties", {{"hs_timestamp", "2026-11-01T09:00:00Z"}}}, {"contactIds", {7001}}}}},
                             {"notes", {{{"properties", {{"hs_timestamp", "2026-11-01T09:00:00Z"}, {"hs_note_body", "n"}}}}}}});
  CHECK(seeded.at("calls") == 1);
  CHECK(seeded.at("notes") == 1);
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/7001/associations/calls").at("results").at(0).at("associationTypes").at(0).at(
            "typeId") == 193);
  auto snapshot = f.call_json("GET", "/_sandbox/snapshot");
  CHECK(snapshot.at("portals").at(0).at("objects").at("calls").size() == 1);
  f.call_json("POST", "/crm/v3/objects/meetings", {{"properties", kinds()[2].properties}}, 201);
  f.call("POST", "/_sandbox/restore", snapshot.dump());
  CHECK(f.call_json("GET", "/crm/v3/objects/meetings").at("results").empty());
  CHECK(f.call_json("GET", "/crm/v4/objects/contacts/7001/associations/calls").at("results").size() == 1);
  auto stats = f.call_json("GET", "/_sandbox/stats");
  CHECK(stats.at("portals").at(0).at("calls") == 1);
}
