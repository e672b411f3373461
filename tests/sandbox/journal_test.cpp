// The sandbox's Webhooks Journal for app lifecycle events (CONTRACT-ADDITIONS.md §5): the
// client-credentials grant, APP_LIFECYCLE_EVENT subscriptions, reading entries in order by offset,
// and the entries' pre-signed file URLs.

#include <catch2/catch.hpp>

#include "common/http.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUninstall = "4-1916193";
constexpr const char* kInstall = "4-1909196";

std::string form(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += (out.empty() ? "" : "&") + k + "=" + http::form_encode(v);
  return out;
}

http::Response client_credentials(SandboxFixture& f, const std::string& scope, const std::string& path = "/oauth/2026-03/token") {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"grant_type", "client_credentials"}, {"client_id", f.config.app.client_id}, {"client_secret", f.config.app.client_secret}};
  if (!scope.empty()) kv.emplace_back("scope", scope);
  return f.call("POST", path, form(kv), "", "application/x-www-form-urlencoded");
}

std::string app_token(SandboxFixture& f) {
  auto r = client_credentials(f,
                              "developer.webhooks_journal.read developer.webhooks_journal.subscriptions.read "
                              "developer.webhooks_journal.subscriptions.write");
  REQUIRE(r.status == 200);
  return json::parse(r.body).at("access_token").get<std::string>();
}

http::Response subscribe(SandboxFixture& f, const std::string& token, const json& body) {
  return f.call("POST", "/webhooks-journal/subscriptions/2026-03", body.dump(), token);
}

void uninstall(SandboxFixture& f, std::int64_t user) {
  auto r = f.call("POST", "/_sandbox/portals/" + std::to_string(f.config.portals.front().id) + "/uninstall",
                  json{{"userId", user}}.dump(), "");
  REQUIRE(r.status == 204);
}

// GET a pre-signed URL (absolute, on the sandbox) without an Authorization header.
http::Response fetch_url(SandboxFixture& f, const std::string& url, const std::string& auth = "") {
  REQUIRE(url.rfind(f.base, 0) == 0);
  return f.call("GET", url.substr(f.base.size()), "", auth);
}

}  // namespace

TEST_CASE("sandbox journal: the client credentials grant gives an app token for the journal's scopes only") {
  SandboxFixture f(test_config());
  for (std::string path : {"/oauth/v1/token", "/oauth/2026-03/token"}) {
    auto ok = client_credentials(f, "developer.webhooks_journal.read", path);
    REQUIRE(ok.status == 200);
    json j = json::parse(ok.body);
    CHECK(j.at("token_use") == "client_credentials");
    CHECK(j.at("token_type") == "bearer");
    CHECK(j.at("expires_in").get<int>() > 0);
    CHECK_FALSE(j.contains("refresh_token"));
    CHECK_FALSE(j.contains("hub_id"));
  }
  auto no_scope = client_credentials(f, "");
  CHECK(no_scope.status == 400);
  CHECK(json::parse(no_scope.body).at("error") == "invalid_scope");
  auto crm_scope = client_credentials(f, "crm.objects.contacts.read");
  CHECK(crm_scope.status == 400);
  CHECK(json::parse(crm_scope.body).at("error") == "invalid_scope");
  std::string bad_secret = form({{"grant_type", "client_credentials"}, {"client_id", f.config.app.client_id},
                                 {"client_secret", "wrong"}, {"scope", "developer.webhooks_journal.read"}});
  auto refused = f.call("POST", "/oauth/2026-03/token", bad_secret, "", "application/x-www-form-urlencoded");
  CHECK(refused.status == 400);
  CHECK(json::parse(refused.body).at("error") == "invalid_client");
}

TEST_CASE("sandbox journal: only an app token with the right scope may use the journal") {
  SandboxFixture f(test_config());
  // An account's token is not the app's.
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest").status == 401);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", "").status == 401);
  auto r = client_credentials(f, "developer.webhooks_journal.subscriptions.read");
  std::string read_subs_only = json::parse(r.body).at("access_token").get<std::string>();
  auto journal = f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", read_subs_only);
  CHECK(journal.status == 403);
  CHECK(json::parse(journal.body).at("category") == "MISSING_SCOPES");
  CHECK(f.call("GET", "/webhooks-journal/subscriptions/2026-03", "", read_subs_only).status == 200);
  auto write = subscribe(f, read_subs_only, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()}});
  CHECK(write.status == 403);
  // The app token expires like any other.
  std::string token = app_token(f);
  f.clock.advance(std::chrono::seconds(f.config.oauth.access_token_ttl_s + 1));
  auto expired = f.call("GET", "/webhooks-journal/subscriptions/2026-03", "", token);
  CHECK(expired.status == 401);
  CHECK(json::parse(expired.body).at("category") == "EXPIRED_AUTHENTICATION");
}

TEST_CASE("sandbox journal: lifecycle subscriptions need eventTypeId and properties and are upserted") {
  SandboxFixture f(test_config());
  std::string token = app_token(f);
  CHECK(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"properties", json::array()}}).status == 400);
  CHECK(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}}).status == 400);
  CHECK(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", "4-1"}, {"properties", json::array()}}).status == 400);
  CHECK(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()},
                             {"portalId", 1}}).status == 400);
  auto first = subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()}});
  REQUIRE(first.status == 200);
  json a = json::parse(first.body);
  CHECK(a.at("subscriptionType") == "APP_LIFECYCLE_EVENT");
  CHECK(a.at("appId") == f.config.app.id);
  CHECK(a.at("objectTypeId") == kUninstall);
  auto again = subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", {"hs_app_id"}}});
  REQUIRE(again.status == 200);
  CHECK(json::parse(again.body).at("id") == a.at("id"));
  REQUIRE(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kInstall}, {"properties", json::array()}}).status == 200);
  auto list = json::parse(f.call("GET", "/webhooks-journal/subscriptions/2026-03", "", token).body);
  CHECK(list.at("results").size() == 2);
  const std::string one = "/webhooks-journal/subscriptions/2026-03/" + std::to_string(a.at("id").get<std::int64_t>());
  CHECK(f.call("DELETE", one, "", token).status == 204);
  CHECK(f.call("GET", one, "", token).status == 404);
}

TEST_CASE("sandbox journal: an uninstall is journaled once subscribed and read in order by offset") {
  SandboxFixture f(test_config());
  std::string token = app_token(f);
  const std::int64_t portal = f.config.portals.front().id;
  // Before any subscription nothing is journaled.
  uninstall(f, 9001);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", token).status == 204);
  REQUIRE(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()}}).status == 200);
  // The account's tokens stop working at the uninstall.
  std::string account_token = f.mint_token();
  uninstall(f, 9002);
  CHECK(f.call("GET", "/crm/v3/objects/contacts", "", account_token).status == 401);
  f.clock.advance(1s);
  uninstall(f, 9003);

  auto first = f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", token);
  REQUIRE(first.status == 200);
  json e1 = json::parse(first.body);
  REQUIRE(e1.at("currentOffset").is_string());
  REQUIRE(e1.at("expiresAt").is_string());
  auto file = fetch_url(f, e1.at("url"));
  REQUIRE(file.status == 200);
  json content = json::parse(file.body);
  CHECK(content.at("offset") == e1.at("currentOffset"));
  json event = content.at("journalEvents").at(0);
  CHECK(event.at("action") == "APP_UNINSTALL");
  CHECK(event.at("eventTypeId") == kUninstall);
  CHECK(event.at("portalId") == portal);
  CHECK(event.at("properties").at("hs_initiating_user_id") == "9002");
  CHECK(event.at("properties").at("hs_app_id") == std::to_string(f.config.app.id));

  auto second = f.call("GET", "/webhooks-journal/journal/2026-03/offset/" + e1.at("currentOffset").get<std::string>() + "/next", "", token);
  REQUIRE(second.status == 200);
  json e2 = json::parse(second.body);
  CHECK(json::parse(fetch_url(f, e2.at("url")).body).at("journalEvents").at(0).at("properties").at("hs_initiating_user_id") == "9003");
  auto latest = json::parse(f.call("GET", "/webhooks-journal/journal/2026-03/latest", "", token).body);
  CHECK(latest.at("currentOffset") == e2.at("currentOffset"));
  // Caught up: nothing after the last entry.
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/offset/" + e2.at("currentOffset").get<std::string>() + "/next", "", token)
            .status == 204);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/offset/00000000-0000-4000-8000-000000000000/next", "", token).status == 404);
  // Another account's entries are filtered out with installPortalId.
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest?installPortalId=99", "", token).status == 204);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest?installPortalId=" + std::to_string(portal), "", token).status == 200);
}

TEST_CASE("sandbox journal: a file URL refuses an Authorization header and expires and entries are kept three days") {
  SandboxFixture f(test_config());
  std::string token = app_token(f);
  REQUIRE(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()}}).status == 200);
  uninstall(f, 9001);
  json e = json::parse(f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", token).body);
  const std::string url = e.at("url");
  CHECK(fetch_url(f, url, token).status == 400);
  CHECK(fetch_url(f, url).status == 200);
  f.clock.advance(16min);
  CHECK(fetch_url(f, url).status == 403);
  std::string fresh = app_token(f);
  auto again = f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", fresh);
  REQUIRE(again.status == 200);
  CHECK(fetch_url(f, json::parse(again.body).at("url")).status == 200);
  f.clock.advance(std::chrono::hours(72));
  std::string later = app_token(f);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/earliest", "", later).status == 204);
  CHECK(f.call("GET", "/webhooks-journal/journal/2026-03/offset/" + e.at("currentOffset").get<std::string>() + "/next", "", later)
            .status == 404);
}

TEST_CASE("sandbox journal: the app uninstalling itself is journaled with no initiating user") {
  SandboxFixture f(test_config());
  std::string token = app_token(f);
  REQUIRE(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kUninstall}, {"properties", json::array()}}).status == 200);
  REQUIRE(subscribe(f, token, {{"subscriptionType", "APP_LIFECYCLE_EVENT"}, {"eventTypeId", kInstall}, {"properties", json::array()}}).status == 200);
  // DELETE /appinstalls/2026-03/external-install with the account's token.
  CHECK(f.call("DELETE", "/appinstalls/2026-03/external-install").status == 204);
  json journal = f.call_json("GET", "/_sandbox/journal");
  REQUIRE(journal.at("entries").size() == 1);
  json event = journal.at("entries").at(0).at("file").at("journalEvents").at(0);
  CHECK(event.at("action") == "APP_UNINSTALL");
  CHECK_FALSE(event.at("properties").contains("hs_initiating_user_id"));  // no person started it
}
