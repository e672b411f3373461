// The contact roll-ups HubSpot computes from logged activities (CONTRACT-ADDITIONS.md §2):
// which activity moves which property, to the activity's time, and what a rep's call looks like
// to the app (webhook changeSource ENGAGEMENTS).

#include <catch2/catch.hpp>

#include "sandbox/wire.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

const char* kRollups =
    "notes_last_contacted,num_contacted_notes,notes_last_updated,num_notes,hs_sales_email_last_replied,"
    "hs_last_sales_activity_timestamp,hs_last_sales_activity_type";

json assoc(const std::string& contact_id, int type_id) {
  return {{{"to", {{"id", contact_id}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", type_id}}}}}};
}

struct Rep {
  SandboxFixture& f;
  std::string contact;

  json props() { return f.call_json("GET", "/crm/v3/objects/contacts/" + contact + "?properties=" + kRollups).at("properties"); }
  std::string log(const std::string& type, json properties, int type_id) {
    return f.call_json("POST", "/crm/v3/objects/" + type, {{"properties", std::move(properties)}, {"associations", assoc(contact, type_id)}},
                       201)
        .at("id");
  }
};

SandboxFixture& with_email_scope(SandboxFixture& f) {
  auto scopes = f.config.app.required_scopes;
  scopes.push_back("sales-email-read");
  f.token = f.mint_token({{"scopes", scopes}});
  return f;
}

}  // namespace

TEST_CASE("sandbox roll-ups: a contact without activities has none") {
  SandboxFixture f(test_config());
  std::string id = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "quiet@example.com"}}}}, 201).at("id");
  Rep rep{f, id};
  auto p = rep.props();
  CHECK(p.at("notes_last_contacted").is_null());
  CHECK(p.at("notes_last_updated").is_null());
  CHECK(p.at("num_contacted_notes").is_null());
}

TEST_CASE("sandbox roll-ups: calls meetings and outgoing emails are contacts and notes are activity only") {
  SandboxFixture f(test_config());
  with_email_scope(f);
  std::string id = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "lead@example.com"}}}}, 201).at("id");
  Rep rep{f, id};

  // A note is an activity but not a contact.
  rep.log("notes", {{"hs_timestamp", "2026-11-02T09:00:00Z"}, {"hs_note_body", "researched"}}, 202);
  auto p = rep.props();
  CHECK(p.at("notes_last_updated") == "2026-11-02T09:00:00.000Z");
  CHECK(p.at("num_notes") == "1");
  CHECK(p.at("notes_last_contacted").is_null());

  // A call sets Last Contacted to the call's time, not the time it was logged.
  rep.log("calls", {{"hs_timestamp", "2026-11-03T10:00:00Z"}, {"hs_call_direction", "OUTBOUND"}, {"hs_call_status", "COMPLETED"}}, 194);
  p = rep.props();
  CHECK(p.at("notes_last_contacted") == "2026-11-03T10:00:00.000Z");
  CHECK(p.at("num_contacted_notes") == "1");
  CHECK(p.at("notes_last_updated") == "2026-11-03T10:00:00.000Z");
  CHECK(p.at("num_notes") == "2");
  // The rep's call is not the contact's engagement.
  CHECK(p.at("hs_last_sales_activity_timestamp").is_null());

  // An older meeting counts but does not move the dates back.
  rep.log("meetings", {{"hs_timestamp", "2026-11-01T08:00:00Z"}, {"hs_meeting_title", "earlier"}}, 200);
  p = rep.props();
  CHECK(p.at("num_contacted_notes") == "2");
  CHECK(p.at("notes_last_contacted") == "2026-11-03T10:00:00.000Z");

  rep.log("emails", {{"hs_timestamp", "2026-11-04T11:00:00Z"}, {"hs_email_direction", "EMAIL"}, {"hs_email_subject", "hi"}}, 198);
  p = rep.props();
  CHECK(p.at("notes_last_contacted") == "2026-11-04T11:00:00.000Z");
  CHECK(p.at("num_contacted_notes") == "3");
  CHECK(p.at("hs_sales_email_last_replied").is_null());

  // The lead's reply: replied date and Last Engagement, not Last Contacted.
  rep.log("emails", {{"hs_timestamp", "2026-11-05T12:00:00Z"}, {"hs_email_direction", "INCOMING_EMAIL"}}, 198);
  p = rep.props();
  CHECK(p.at("hs_sales_email_last_replied") == "2026-11-05T12:00:00.000Z");
  CHECK(p.at("hs_last_sales_activity_timestamp") == "2026-11-05T12:00:00.000Z");
  CHECK(p.at("hs_last_sales_activity_type") == "EMAIL_REPLIED");
  CHECK(p.at("notes_last_contacted") == "2026-11-04T11:00:00.000Z");
  CHECK(p.at("num_contacted_notes") == "3");
  CHECK(p.at("notes_last_updated") == "2026-11-05T12:00:00.000Z");
  CHECK(p.at("num_notes") == "5");
}

TEST_CASE("sandbox roll-ups: follow associations made later and removed and deleted activities") {
  SandboxFixture f(test_config());
  std::string id = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "later@example.com"}}}}, 201).at("id");
  Rep rep{f, id};
  std::string late = f.call_json("POST", "/crm/v3/objects/calls", {{"properties", {{"hs_timestamp", "2026-11-10T10:00:00Z"}}}}, 201).at("id");
  CHECK(rep.props().at("notes_last_contacted").is_null());
  CHECK(f.call("PUT", "/crm/v3/objects/calls/" + late + "/associations/contacts/" + id + "/194").status == 200);
  CHECK(rep.props().at("notes_last_contacted") == "2026-11-10T10:00:00.000Z");

  std::string early = rep.log("calls", {{"hs_timestamp", "2026-11-08T10:00:00Z"}}, 194);
  CHECK(rep.props().at("num_contacted_notes") == "2");
  // Deleting the later call leaves the earlier one.
  CHECK(f.call("DELETE", "/crm/v3/objects/calls/" + late).status == 204);
  CHECK(rep.props().at("notes_last_contacted") == "2026-11-08T10:00:00.000Z");
  CHECK(rep.props().at("num_contacted_notes") == "1");
  // Moving the remaining call's time moves the roll-up.
  f.call_json("PATCH", "/crm/v3/objects/calls/" + early, {{"properties", {{"hs_timestamp", "2026-11-09T10:00:00Z"}}}});
  CHECK(rep.props().at("notes_last_contacted") == "2026-11-09T10:00:00.000Z");
  // Associated from the contact's side through the v4 batch.
  std::string third = f.call_json("POST", "/crm/v3/objects/meetings", {{"properties", {{"hs_timestamp", "2026-11-12T10:00:00Z"}}}}, 201).at("id");
  f.call_json("POST", "/crm/v4/associations/contacts/meetings/batch/associate/default",
              {{"inputs", {{{"from", {{"id", id}}}, {"to", {{"id", third}}}}}}});
  CHECK(rep.props().at("notes_last_contacted") == "2026-11-12T10:00:00.000Z");
}

TEST_CASE("sandbox roll-ups: completing an associated task is activity at its completion time") {
  SandboxFixture f(test_config());
  std::string id = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "task@example.com"}}}}, 201).at("id");
  Rep rep{f, id};
  std::string task = rep.log("tasks", {{"hs_timestamp", "2026-12-01T00:00:00Z"}, {"hs_task_subject", "Follow up"}}, 204);
  CHECK(rep.props().at("notes_last_updated").is_null());  // an open task is not activity
  f.clock.advance(std::chrono::minutes(5));
  std::string now = iso8601_ms(to_epoch_ms(f.clock.now()));
  f.call_json("PATCH", "/crm/v3/objects/tasks/" + task, {{"properties", {{"hs_task_status", "COMPLETED"}}}});
  auto p = rep.props();
  CHECK(p.at("notes_last_updated") == now);
  CHECK(p.at("notes_last_contacted").is_null());  // a completed task is not a contact
  CHECK(p.at("num_notes").is_null());
}

TEST_CASE("sandbox roll-ups: seeded values stay until an activity is logged and read-only for the API") {
  SandboxFixture f(test_config());
  f.call_json("POST", "/_sandbox/seed",
              {{"contacts", {{{"id", 8001}, {"properties", {{"email", "old@example.com"}, {"notes_last_contacted", "2026-01-01T00:00:00Z"}}}}}}});
  Rep rep{f, "8001"};
  f.call_json("PATCH", "/crm/v3/objects/contacts/8001", {{"properties", {{"firstname", "Old"}}}});
  CHECK(rep.props().at("notes_last_contacted") == "2026-01-01T00:00:00.000Z");
  auto write = f.call("PATCH", "/crm/v3/objects/contacts/8001", R"({"properties":{"num_contacted_notes":"4"}})");
  CHECK(write.status == 400);
  rep.log("calls", {{"hs_timestamp", "2026-11-20T10:00:00Z"}}, 194);
  CHECK(rep.props().at("notes_last_contacted") == "2026-11-20T10:00:00.000Z");
}
