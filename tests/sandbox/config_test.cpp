#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "sandbox/config.hpp"

using namespace tandem;
using namespace tandem::sandbox;

TEST_CASE("sandbox default config has a portal, owners with and without teams, and an app") {
  auto c = default_config();
  REQUIRE(c.portals.size() == 1);
  const auto& owners = c.portals[0].owners;
  REQUIRE(owners.size() >= 3);
  bool with_team = false, without_team = false;
  for (const auto& o : owners) (o.team_ids.empty() ? without_team : with_team) = true;
  CHECK(with_team);
  CHECK(without_team);
  CHECK(!c.app.client_id.empty());
  CHECK(!c.app.client_secret.empty());
  CHECK(!c.app.redirect_urls.empty());
  CHECK(c.app.max_concurrent_requests == 10);
  CHECK(c.oauth.access_token_ttl_s == 1800);
  CHECK(c.limits.ten_secondly == 110);
  CHECK(c.limits.search_per_second == 5);
}

TEST_CASE("sandbox example config parses without diagnostics") {
  std::string path = std::string(TANDEM_SOURCE_DIR) + "/examples/sandbox.yaml";
  Diagnostics d;
  auto c = load_config_file(path, d);
  INFO(d.format());
  REQUIRE(!d.has_errors());
  CHECK(c.portals.at(0).id == 12345678);
  CHECK(c.app.subscriptions.size() >= 2);
}

TEST_CASE("sandbox config rejects unknown keys with the key path, position and a suggestion") {
  Diagnostics d;
  parse_config("app:\n  clientID: x\nlimits:\n  tenSecondly: 0\n", "sandbox.yaml", d);
  REQUIRE(d.error_count() == 2);
  auto text = d.format();
  CHECK_THAT(text, Catch::Contains("sandbox.yaml:2:3: error: app.clientID: unknown key; did you mean 'clientId'?"));
  CHECK_THAT(text, Catch::Contains("sandbox.yaml:4:16: error: limits.tenSecondly: 0 is out of range [1, 10000000]"));
}

TEST_CASE("sandbox config checks enumerations and propertyChange subscriptions") {
  Diagnostics d;
  parse_config(
      "app:\n  webhooks:\n    subscriptions:\n      - subscriptionType: contact.propertyChange\n      - subscriptionType: contact.creaton\n"
      "lifecycle:\n  backwards: sometimes\n",
      "s.yaml", d);
  auto text = d.format();
  CHECK_THAT(text, Catch::Contains("propertyName: required for propertyChange"));
  CHECK_THAT(text, Catch::Contains("did you mean 'contact.creation'?"));
  CHECK_THAT(text, Catch::Contains("lifecycle.backwards: 'sometimes' is not one of: ignore, reject"));
}

TEST_CASE("sandbox config reports an unknown key inside a list item with its indexed path") {
  Diagnostics d;
  parse_config("portals:\n  - id: 1\n    owners:\n      - { id: \"7\", emial: x@example.com }\n", "sandbox.yaml", d);
  REQUIRE(d.error_count() == 1);
  CHECK_THAT(
      d.format(),
      Catch::StartsWith("sandbox.yaml:4:20: error: portals[0].owners[0].emial: unknown key; did you mean 'email'?"));
}

TEST_CASE("sandbox config booleans are true or false, as in every Tandem file") {
  Diagnostics d;
  auto c = parse_config(
      "portals:\n  - id: 1\n    owners:\n      - { id: \"7\", archived: yes }\n"
      "app:\n  webhooks:\n    subscriptions:\n      - { subscriptionType: contact.creation, active: off }\n",
      "sandbox.yaml", d);
  REQUIRE(d.error_count() == 2);
  auto text = d.format();
  CHECK_THAT(text,
             Catch::Contains("sandbox.yaml:4:30: error: portals[0].owners[0].archived: 'yes' is not true or false"));
  CHECK_THAT(text, Catch::Contains(
                       "sandbox.yaml:8:55: error: app.webhooks.subscriptions[0].active: 'off' is not true or false"));

  Diagnostics ok;
  c = parse_config("portals:\n  - id: 1\n    owners:\n      - { id: \"7\", archived: true }\n", "sandbox.yaml", ok);
  CHECK_FALSE(ok.has_errors());
  CHECK(c.portals.at(0).owners.at(0).archived);
}
