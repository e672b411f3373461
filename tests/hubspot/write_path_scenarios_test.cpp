// The write path's refusals and recoveries, each against the sandbox in real time: an unknown
// property, an expired token in the middle of a drain, a backwards lifecycle change.

#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hubspot/token_source.hpp"
#include "sandbox/config.hpp"
#include "tests/hubspot/live_sandbox.hpp"
#include "tests/hubspot/write_path_rig.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using tandem::hubspot::ContactUpdate;
using tandem::hubspot::Intent;
using tandem::hubspot::LifecycleChange;
using tandem::hubspot::TaskCreation;
using tandem::testing::LiveSandbox;
using tandem::testing::wait_until;
using tandem::testing::WriterHarness;

namespace {

tandem::sandbox::SandboxConfig quick_config() {
  auto c = tandem::sandbox::default_config();
  c.limits.ten_secondly = 100'000;
  c.limits.search_per_second = 1'000;
  return c;
}

tandem::connector::WritePathOptions quick_options(const LiveSandbox& sandbox) {
  tandem::connector::WritePathOptions o;
  o.client.base_url = sandbox.base();
  o.client.timeout = 10s;
  o.limits.per_ten_seconds = 90'000;
  o.writer.settle = 2s;
  o.writer.retry.base = 20ms;
  o.writer.retry.cap = 200ms;
  return o;
}

json contact_props(LiveSandbox& sandbox, const std::string& id) {
  for (const auto& p : sandbox.snapshot().at("portals"))
    for (const auto& c : p.at("objects").at("contacts"))
      if (std::to_string(c.at("id").get<std::int64_t>()) == id) return c.at("props");
  return json();
}

}  // namespace

TEST_CASE("write path: an unknown property dead-letters its input with HubSpot's message and the rest is written",
          "[hubspot][write_path]") {
  LiveSandbox sandbox(quick_config());
  sandbox.seed(json{{"generateContacts", 5}});
  auto contacts = sandbox.contact_ids();
  REQUIRE(contacts.size() == 5);
  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(sandbox.portal(), tandem::Secret(sandbox.mint_token()));
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, quick_options(sandbox));

  std::vector<Intent> intents;
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    ContactUpdate u{"k" + std::to_string(i), sandbox.portal(), contacts[i], {{"jobtitle", "Head of Ops " + std::to_string(i)}}};
    if (i == 2) u.properties.push_back({"favourite_colour", "teal"});
    intents.emplace_back(std::move(u));
  }
  writer.record(intents);
  writer.start();
  REQUIRE(wait_until([&] { return writer.pending() == 0; }, 30s, 20ms));
  CHECK(writer.dead() == 1);

  auto dead = writer.outbox().list({.state = tandem::hubspot::ItemState::kDead});
  REQUIRE(dead);
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().contact_id == contacts[2]);
  CHECK_THAT(dead->front().last_error, Catch::Contains("favourite_colour"));
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    auto props = contact_props(sandbox, contacts[i]);
    if (i == 2)
      CHECK(props.value("jobtitle", "") != "Head of Ops 2");
    else
      CHECK(props.value("jobtitle", "") == "Head of Ops " + std::to_string(i));
  }
}

TEST_CASE("write path: a token that expires in the middle of a drain is refreshed once and nothing is lost",
          "[hubspot][write_path]") {
  LiveSandbox sandbox(quick_config());
  sandbox.seed(json{{"generateContacts", 20}});
  auto contacts = sandbox.contact_ids();
  auto workload = tandem::testing::make_workload(sandbox.portal(), contacts, 60, 5);
  tandem::hubspot::StaticTokenSource tokens([&](std::int64_t) {
    return std::optional<tandem::Secret>(tandem::Secret(sandbox.mint_token(0, 3600)));
  });
  // Valid for two seconds; at two batches per second the drain takes longer than that.
  tokens.set(sandbox.portal(), tandem::Secret(sandbox.mint_token(0, 2)));
  auto options = quick_options(sandbox);
  options.limits.per_ten_seconds = 20;
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, options);
  writer.record(workload.intents);
  writer.start();
  REQUIRE(wait_until([&] { return writer.pending() == 0; }, 60s, 50ms));
  CHECK(writer.dead() == 0);
  CHECK(tokens.refreshes() == 1);
  auto problems = tandem::testing::check_against(sandbox.snapshot(), sandbox.portal(), workload);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}

TEST_CASE("write path: a backwards lifecycle change clears the stage and then sets the earlier one",
          "[hubspot][write_path]") {
  // The sandbox ignores a direct backwards write as HubSpot does (200, value unchanged), so the
  // earlier stage is only reached through the two steps.
  LiveSandbox sandbox(quick_config());
  sandbox.seed(json{{"contacts", {{{"properties", {{"email", "ann@example.com"}, {"lifecyclestage", "salesqualifiedlead"}}}},
                                  {{"properties", {{"email", "bob@example.com"}, {"lifecyclestage", "lead"}}}}}}});
  auto contacts = sandbox.contact_ids();
  REQUIRE(contacts.size() == 2);
  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(sandbox.portal(), tandem::Secret(sandbox.mint_token()));
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, quick_options(sandbox));
  std::vector<Intent> intents{
      LifecycleChange{"back", sandbox.portal(), contacts[0], "lead", true},
      LifecycleChange{"forward", sandbox.portal(), contacts[1], "marketingqualifiedlead", false},
  };
  writer.record(intents);
  writer.start();
  REQUIRE(wait_until([&] { return writer.pending() == 0; }, 30s, 20ms));
  CHECK(writer.dead() == 0);
  CHECK(contact_props(sandbox, contacts[0]).value("lifecyclestage", "") == "lead");
  CHECK(contact_props(sandbox, contacts[1]).value("lifecyclestage", "") == "marketingqualifiedlead");
}
