// Deals in the sandbox (CONTRACT-ADDITIONS.md §6): records with HubSpot's revenue properties and
// calculated closed / won flags, their contacts (association types 3 and 4), the default pipeline,
// and the deals scopes.

#include <catch2/catch.hpp>

#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

std::string deals_token(SandboxFixture& f) {
  auto scopes = f.config.app.required_scopes;
  scopes.push_back("crm.objects.deals.read");
  scopes.push_back("crm.objects.deals.write");
  return f.mint_token({{"scopes", scopes}});
}

}  // namespace

TEST_CASE("sandbox deals: a deal with its contact, its amount and stage, closed and won as HubSpot calculates") {
  SandboxFixture f(test_config());
  f.token = deals_token(f);
  const std::string cid = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "ada@example.com"}}}}, 201).at("id");
  for (std::string prefix : {"/crm/v3/objects/deals", "/crm/objects/2026-03/deals"}) {
    INFO(prefix);
    json body = {{"properties", {{"dealname", "Northwind platform"}, {"amount", "24000.50"}, {"dealstage", "contractsent"},
                                 {"pipeline", "default"}, {"closedate", "2026-12-15T00:00:00Z"}}},
                 {"associations",
                  {{{"to", {{"id", cid}}}, {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 3}}}}}}}};
    auto created = f.call_json("POST", prefix, body, 201);
    const std::string id = created.at("id");
    CHECK(created.at("properties").at("amount") == "24000.50");  // values are strings on the wire
    CHECK(created.at("properties").at("hs_is_closed") == "false");
    CHECK(created.at("properties").at("hs_is_closed_won") == "false");
    CHECK(created.at("properties").contains("createdate"));

    // Without `properties`: the deal's default set.
    auto plain = f.call_json("GET", prefix + "/" + id);
    for (const char* p : {"dealname", "amount", "closedate", "pipeline", "dealstage"}) CHECK(plain.at("properties").contains(p));

    // Won: the flags follow the stage; they cannot be written.
    auto won = f.call_json("PATCH", prefix + "/" + id, {{"properties", {{"dealstage", "closedwon"}}}});
    CHECK(won.at("properties").at("hs_is_closed") == "true");
    CHECK(won.at("properties").at("hs_is_closed_won") == "true");
    CHECK(f.call("PATCH", prefix + "/" + id, json{{"properties", {{"hs_is_closed_won", "false"}}}}.dump()).status == 400);
    CHECK(f.call("PATCH", prefix + "/" + id, json{{"properties", {{"dealstage", "signed"}}}}.dump()).status == 400);
    auto lost = f.call_json("PATCH", prefix + "/" + id, {{"properties", {{"dealstage", "closedlost"}}}});
    CHECK(lost.at("properties").at("hs_is_closed") == "true");
    CHECK(lost.at("properties").at("hs_is_closed_won") == "false");

    // The contact's deals, from both sides, with HubSpot's type ids (deal -> contact 3, contact -> deal 4).
    auto deal_side = f.call_json("GET", prefix + "/" + id + "?associations=contacts");
    CHECK(deal_side.at("associations").at("contacts").at("results").at(0).at("id") == cid);
    auto v4 = f.call_json("GET", "/crm/v4/objects/contacts/" + cid + "/associations/deals");
    bool found = false;
    for (const auto& r : v4.at("results"))
      if (std::to_string(r.at("toObjectId").get<std::int64_t>()) == id) {
        found = true;
        CHECK(r.at("associationTypes").at(0).at("typeId") == 4);
      }
    CHECK(found);
    auto batch = f.call_json("POST", "/crm/v4/associations/contacts/deals/batch/read", {{"inputs", {{{"id", cid}}}}});
    CHECK(batch.at("results").at(0).at("to").size() >= 1);
  }
  // A deal without a stage (or a name) is refused: the strictest reading (UNCONFIRMED).
  auto no_stage = f.call("POST", "/crm/v3/objects/deals", json{{"properties", {{"dealname", "x"}}}}.dump());
  CHECK(no_stage.status == 400);
  const json why = json::parse(no_stage.body).at("errors").at(0);
  CHECK(why.at("code") == "REQUIRED_PROPERTY");
  CHECK(why.at("context").at("propertyName").at(0) == "dealstage");
}

TEST_CASE("sandbox deals: the default pipeline's stages, and the deals scopes on deals and their associations") {
  SandboxFixture f(test_config());  // the fixture's token has the default scopes, without deals
  CHECK(f.call("GET", "/crm/v3/objects/deals").status == 403);
  CHECK(json::parse(f.call("GET", "/crm/v3/objects/deals").body).at("category") == "MISSING_SCOPES");
  CHECK(f.call("GET", "/crm/v3/pipelines/deals").status == 403);
  const std::string cid = f.call_json("POST", "/crm/v3/objects/contacts", {{"properties", {{"email", "bo@example.com"}}}}, 201).at("id");
  CHECK(f.call("GET", "/crm/v4/objects/contacts/" + cid + "/associations/deals").status == 403);

  const std::string read_only = f.mint_token({{"scopes", {"crm.objects.contacts.read", "crm.objects.deals.read"}}});
  CHECK(f.call("GET", "/crm/v3/objects/deals", "", read_only).status == 200);
  CHECK(f.call("POST", "/crm/v3/objects/deals", json{{"properties", {{"dealname", "x"}}}}.dump(), read_only).status == 403);
  for (std::string path : {"/crm/v3/pipelines/deals", "/crm/pipelines/2026-03/deals"}) {
    auto r = f.call("GET", path, "", read_only);
    REQUIRE(r.status == 200);
    const json pipeline = json::parse(r.body).at("results").at(0);
    CHECK(pipeline.at("id") == "default");
    const auto& stages = pipeline.at("stages");
    REQUIRE(stages.size() == 7);
    CHECK(stages.at(5).at("id") == "closedwon");
    CHECK(stages.at(5).at("metadata").at("probability") == "1.0");  // metadata values are strings
    CHECK(stages.at(5).at("metadata").at("isClosed") == "true");
    CHECK(stages.at(6).at("id") == "closedlost");
    CHECK(stages.at(6).at("metadata").at("probability") == "0.0");
    CHECK(stages.at(0).at("metadata").at("isClosed") == "false");
  }
}
