// The write path's refusals and recoveries, each against the sandbox in real time: an unknown
// property, an expired token in the middle of a drain, a backwards lifecycle change.

#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hubspot/token_source.hpp"
#include "sandbox/config.hpp"
#include "sandbox/sandbox_server.hpp"
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
  return tandem::testing::fast_write_options(sandbox.base(), sandbox.ca_pem());
}

json contact_props(LiveSandbox& sandbox, const std::string& id) {
  json all = sandbox.snapshot();
  for (const auto& p : all.at("portals"))
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
  REQUIRE(dead.has_value());
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

TEST_CASE("write path: a DAILY 429 pauses that account while another account keeps writing", "[hubspot][write_path]") {
  auto config = quick_config();
  auto second = config.portals.at(0);
  second.id = 87654321;
  second.domain = "second.tandem.local";
  second.time_zone = "America/New_York";
  config.portals.push_back(second);
  LiveSandbox sandbox(config);
  const std::int64_t paused = second.id;
  const std::int64_t writing = sandbox.portal();
  sandbox.seed(json{{"generateContacts", 10}}, paused);
  sandbox.seed(json{{"generateContacts", 10}}, writing);
  auto paused_contacts = sandbox.contact_ids(paused);
  auto writing_contacts = sandbox.contact_ids(writing);
  // Every write of the paused account hits its daily limit from now on.
  sandbox.set_faults(json::array({{{"path", "/crm/*"}, {"burst429", 1'000'000}, {"burst429Policy", "DAILY"}, {"portal", paused}}}));

  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(paused, tandem::Secret(sandbox.mint_token(paused)));
  tokens.set(writing, tandem::Secret(sandbox.mint_token(writing)));
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, quick_options(sandbox));
  auto a = tandem::testing::make_workload(paused, paused_contacts, 3, 3);
  auto b = tandem::testing::make_workload(writing, writing_contacts, 3, 3);
  writer.start();
  writer.record(a.intents);
  writer.record(b.intents);

  auto pending_of = [&](std::int64_t portal) {
    auto s = writer.outbox().stats(tandem::to_epoch_ms(tandem::SystemClock::instance().now()));
    REQUIRE(s.has_value());
    std::int64_t n = 0;
    for (const auto& l : s->lanes)
      if (l.portal_id == portal) n += l.pending;
    return n;
  };
  REQUIRE(wait_until([&] { return pending_of(writing) == 0; }, 30s, 20ms));
  auto problems = tandem::testing::check_against(sandbox.snapshot(), writing, b);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  // The paused account kept everything, dead-lettered nothing, and says so on /metrics.
  // One coalesced update per contact and three tasks each, all still pending.
  CHECK(pending_of(paused) == static_cast<std::int64_t>(4 * paused_contacts.size()));
  CHECK(writer.dead() == 0);
  CHECK_THAT(writer.metrics().render(), Catch::Contains("tandem_outbox_account_paused{portal=\"87654321\"} 1"));
  // It sent one request per worker at most before pausing: a paused account does not hammer HubSpot.
  auto requests = sandbox.call("GET", "/_sandbox/requests", nullptr, 200).at("results");
  int daily = 0;
  for (const auto& r : requests)
    if (r.at("status") == 429) ++daily;
  CHECK(daily >= 1);
  CHECK(daily <= quick_options(sandbox).writer.requests_per_account + 1);
}

TEST_CASE("write path: the whole write path over TLS, trusting the sandbox's certificate", "[hubspot][write_path]") {
  auto certificate = tandem::sandbox::make_self_signed_certificate();
  REQUIRE(certificate.has_value());
  LiveSandbox sandbox(quick_config(), *certificate);
  REQUIRE(sandbox.base().rfind("https://", 0) == 0);
  sandbox.seed(json{{"generateContacts", 30}});
  auto contacts = sandbox.contact_ids();
  auto workload = tandem::testing::make_workload(sandbox.portal(), contacts, 4, 6);
  // Faults on the TLS connections too: resets after the write force lookups over new connections.
  sandbox.set_faults(json::array({{{"path", "/crm/*"}, {"resetRate", 0.05}, {"resetWhen", "after"}}}));
  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(sandbox.portal(), tandem::Secret(sandbox.mint_token()));
  auto options = quick_options(sandbox);
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, options);
  writer.record(workload.intents);
  writer.start();
  REQUIRE(wait_until([&] { return writer.pending() == 0; }, 60s, 20ms));
  sandbox.set_faults(json::array());
  CHECK(writer.dead() == 0);
  auto problems = tandem::testing::check_against(sandbox.snapshot(), sandbox.portal(), workload);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}

TEST_CASE("write path: a writer that does not trust the sandbox's certificate writes nothing and loses nothing",
          "[hubspot][write_path]") {
  auto certificate = tandem::sandbox::make_self_signed_certificate();
  REQUIRE(certificate.has_value());
  LiveSandbox sandbox(quick_config(), *certificate);
  sandbox.seed(json{{"generateContacts", 3}});
  auto contacts = sandbox.contact_ids();
  auto workload = tandem::testing::make_workload(sandbox.portal(), contacts, 1, 1);
  tandem::hubspot::StaticTokenSource tokens;
  tokens.set(sandbox.portal(), tandem::Secret(sandbox.mint_token()));
  tandem::testing::TempDir dir;
  WriterHarness writer(dir.file("tandem.db"), tokens, tandem::testing::fast_write_options(sandbox.base()));  // no extra CA
  writer.record(workload.intents);
  writer.start();
  REQUIRE(wait_until([&] { return writer.metrics().render().find("status=\"tls\"") != std::string::npos; }, 20s, 20ms));
  writer.stop();
  CHECK(writer.pending() == static_cast<std::int64_t>(workload.intents.size()));
  CHECK(writer.dead() == 0);
}
