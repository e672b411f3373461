// The install end to end: an admin's browser through Tandem's install URL, the sandbox's consent
// step and back; the account's tokens stored encrypted; writes as that account; refresh before
// expiry, once for many callers; accounts side by side; and every bad callback refused with the
// right page and nothing stored.

#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "common/http_client.hpp"
#include "hubspot/outbox.hpp"
#include "oauth/uninstall_notices.hpp"
#include "tests/oauth/install_rig.hpp"
#include "tests/support/run_cli.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using nlohmann::json;
using tandem::Secret;
using tandem::testing::Browser;
using tandem::testing::LiveSandbox;
using tandem::testing::TandemUnderTest;
using tandem::testing::TempDir;
using tandem::testing::wait_until;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kPortalA = 12345678;
constexpr std::int64_t kPortalB = 87654321;

json contact_props(LiveSandbox& sandbox, std::int64_t portal, const std::string& id) {
  json all = sandbox.snapshot();
  for (const auto& p : all.at("portals")) {
    if (p.at("id").get<std::int64_t>() != portal) continue;
    for (const auto& c : p.at("objects").at("contacts"))
      if (std::to_string(c.at("id").get<std::int64_t>()) == id) return c.at("props");
  }
  return json();
}

std::vector<std::string> contact_ids(LiveSandbox& sandbox, std::int64_t portal) {
  std::vector<std::string> out;
  json all = sandbox.snapshot();
  for (const auto& p : all.at("portals"))
    if (p.at("id").get<std::int64_t>() == portal)
      for (const auto& c : p.at("objects").at("contacts")) out.push_back(std::to_string(c.at("id").get<std::int64_t>()));
  return out;
}

void record_update(TandemUnderTest& t, std::int64_t portal, const std::string& contact, const std::string& value,
                   const std::string& key) {
  tandem::hubspot::ContactUpdate u{key, portal, contact, {{"jobtitle", value}}};
  std::vector<tandem::hubspot::Intent> intents{u};
  auto r = t.outbox->record(intents, tandem::to_epoch_ms(tandem::SystemClock::instance().now()));
  REQUIRE(r.has_value());
  t.connections->write_path().writer().wake(portal);
}

// Makes the consent page install into `portal`, as the person choosing an account would.
std::function<std::string(const std::string&)> choose_account(std::int64_t portal) {
  return [portal](const std::string& url) {
    if (url.find("/oauth/authorize?") == std::string::npos) return url;
    return url + "&portal_id=" + std::to_string(portal);
  };
}

std::vector<tandem::Secret> many_tokens(TandemUnderTest& t, std::int64_t portal, int callers) {
  auto& io = t.service->io();
  auto& source = t.connections->tokens();
  std::vector<std::future<tandem::Result<Secret, tandem::hubspot::TokenError>>> futures;
  std::promise<void> started;
  boost::asio::post(io, [&] {
    for (int i = 0; i < callers; ++i)
      futures.push_back(boost::asio::co_spawn(io, source.access_token(portal), boost::asio::use_future));
    started.set_value();
  });
  started.get_future().wait();
  std::vector<Secret> out;
  for (auto& f : futures) {
    auto r = f.get();
    if (r.has_value()) out.push_back(*r);
  }
  return out;
}

// The command line in this process: exit code, stdout, stderr.
std::tuple<int, std::string, std::string> cli(std::vector<std::string> args) {
  auto r = tandem::testing::run_cli(std::move(args));
  return std::make_tuple(r.code, r.out, r.err);
}

}  // namespace

TEST_CASE("install: an admin installs through the consent page and Tandem writes as that account", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA}, /*token_ttl_s=*/4);
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 3}}, kPortalA);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"), "  refresh_before: 1s\n");

  Browser browser;
  auto page = browser.get(tandem_.install_url());
  INFO(page.body);
  REQUIRE(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("HubSpot account 12345678"));
  CHECK_THAT(page.body, Catch::Contains("is connected to Tandem"));
  CHECK_THAT(page.body, Catch::Contains("Europe/Berlin"));
  CHECK_THAT(page.body, Catch::Contains("account1.example.com"));
  // The hops: Tandem's install URL, HubSpot's authorize URL, Tandem's callback.
  REQUIRE(browser.hops.size() == 3);
  CHECK(browser.hops[0].status == 302);
  CHECK(browser.hops[1].url.find(sandbox.base() + "/oauth/authorize?client_id=") == 0);
  CHECK(browser.hops[1].url.find("scope=oauth%20crm.objects.contacts.read") != std::string::npos);
  CHECK(browser.hops[2].url.find("/oauth/callback?code=") != std::string::npos);

  auto account = tandem_.tokens->account(kPortalA);
  REQUIRE(account.has_value());
  REQUIRE(account->has_value());
  CHECK((*account)->status == tandem::oauth::AccountStatus::kConnected);
  CHECK((*account)->time_zone == "Europe/Berlin");
  CHECK((*account)->hub_domain == "account1.example.com");
  CHECK((*account)->properties_ready);
  // Tandem's properties exist in the account, in its group.
  auto defs = sandbox.snapshot();
  bool found = false;
  for (const auto& p : defs.at("portals"))
    for (const auto& [type, list] : p.at("properties").items())
      for (const auto& d : list)
        if (type == "contacts" && d.value("name", "") == "tandem_recycle_count" && d.value("groupName", "") == "tandem") found = true;
  CHECK(found);

  // Writes go out with the installed account's token.
  auto contacts = contact_ids(sandbox, kPortalA);
  REQUIRE(contacts.size() == 3);
  record_update(tandem_, kPortalA, contacts[0], "Head of Data", "test:1");
  REQUIRE(wait_until([&] { return contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") == "Head of Data"; }, 15s));

  // The access token lives 4 s and is refreshed 1 s before: wait until it is due, then 50 callers
  // want a token at once. Exactly one refresh happens and all of them get its token.
  const int before = tandem::testing::token_requests(sandbox);
  CHECK(before >= 1);
  auto expires = (*tandem_.tokens->account(kPortalA))->access_expires_at;
  REQUIRE(wait_until([&] { return tandem::to_epoch_ms(tandem::SystemClock::instance().now()) >= expires - 900; }, 10s));
  const auto refreshes_before = tandem_.connections->tokens().refreshes();
  auto tokens = many_tokens(tandem_, kPortalA, 50);
  REQUIRE(tokens.size() == 50);
  for (const auto& t : tokens) CHECK(t == tokens.front());
  CHECK(tandem_.connections->tokens().refreshes() == refreshes_before + 1);
  CHECK(tandem::testing::token_requests(sandbox) == before + 1);
  // The refreshed tokens were stored, and the next write uses them.
  auto stored = tandem_.tokens->tokens(kPortalA);
  REQUIRE(stored.has_value());
  REQUIRE(stored->has_value());
  CHECK((*stored)->access_token == tokens.front());
  record_update(tandem_, kPortalA, contacts[1], "VP Sales", "test:2");
  REQUIRE(wait_until([&] { return contact_props(sandbox, kPortalA, contacts[1]).value("jobtitle", "") == "VP Sales"; }, 15s));
}

TEST_CASE("install: two accounts side by side each write to their own account with their own token", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA, kPortalB});
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 2}}, kPortalA);
  sandbox.seed(json{{"generateContacts", 2}}, kPortalB);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  for (auto portal : {kPortalA, kPortalB}) {
    Browser browser;
    browser.choose = choose_account(portal);
    auto page = browser.get(tandem_.install_url());
    INFO(page.body);
    REQUIRE(page.status == 200);
    CHECK_THAT(page.body, Catch::Contains("HubSpot account " + std::to_string(portal)));
  }
  auto accounts = tandem_.tokens->accounts();
  REQUIRE(accounts.has_value());
  REQUIRE(accounts->size() == 2);
  CHECK((*accounts)[0].time_zone != (*accounts)[1].time_zone);
  auto ta = tandem_.tokens->tokens(kPortalA);
  auto tb = tandem_.tokens->tokens(kPortalB);
  REQUIRE((ta.has_value() && ta->has_value() && tb.has_value() && tb->has_value()));
  CHECK_FALSE((*ta)->access_token == (*tb)->access_token);
  // The same contact id exists in both accounts: each account's write must land in its own.
  auto a = contact_ids(sandbox, kPortalA);
  auto b = contact_ids(sandbox, kPortalB);
  REQUIRE((a.size() == 2 && b.size() == 2));
  record_update(tandem_, kPortalA, a[0], "written for A", "two:a");
  record_update(tandem_, kPortalB, b[0], "written for B", "two:b");
  REQUIRE(wait_until([&] {
    return contact_props(sandbox, kPortalA, a[0]).value("jobtitle", "") == "written for A" &&
           contact_props(sandbox, kPortalB, b[0]).value("jobtitle", "") == "written for B";
  }, 15s));
  // Each token works only for its account: the sandbox refuses A's token on B's records by
  // answering for A; the values above could only land as they did with the right token each.
  CHECK(contact_props(sandbox, kPortalA, a[0]).value("jobtitle", "") != "written for B");
}

TEST_CASE("install: bad callbacks get a clear page and store nothing", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  auto nothing_stored = [&] {
    auto accounts = tandem_.tokens->accounts();
    return accounts.has_value() && accounts->empty();
  };
  const std::string callback = tandem_.base() + "/oauth/callback";

  SECTION("a forged state") {
    Browser browser;
    auto r = browser.get(callback + "?code=na1-forged&state=0123456789abcdef");
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("not valid any more"));
    CHECK_THAT(r.body, Catch::Contains("/oauth/install"));
    CHECK(nothing_stored());
  }
  SECTION("no state at all") {
    Browser browser;
    auto r = browser.get(callback + "?code=na1-x");
    CHECK(r.status == 400);
    CHECK(nothing_stored());
  }
  SECTION("the callback from another browser (no cookie)") {
    Browser admin;
    auto to_hubspot = admin.get_once(tandem_.install_url());
    REQUIRE(to_hubspot.status == 302);
    auto back = admin.get_once(std::string(*to_hubspot.headers.get("Location")));
    REQUIRE(back.status == 302);
    Browser other;  // an attacker's browser, handed the callback URL
    auto r = other.get(std::string(*back.headers.get("Location")));
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("another browser"));
    CHECK(nothing_stored());
    // The state was spent: the admin's own browser cannot use it afterwards either.
    auto again = admin.get(std::string(*back.headers.get("Location")));
    CHECK(again.status == 400);
    CHECK(nothing_stored());
  }
  SECTION("the user refuses the install in HubSpot") {
    Browser browser;
    browser.choose = [](const std::string& url) {
      return url.find("/oauth/authorize?") == std::string::npos ? url : url + "&sandbox_decision=deny";
    };
    auto r = browser.get(tandem_.install_url());
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("was not installed"));
    CHECK(nothing_stored());
  }
  SECTION("a replayed callback and a code used twice") {
    Browser browser;
    auto ok = browser.get(tandem_.install_url());
    REQUIRE(ok.status == 200);
    const std::string used = browser.hops.back().url;
    auto before = tandem_.tokens->tokens(kPortalA);
    REQUIRE((before.has_value() && before->has_value()));
    // The same callback URL again (state and code replayed).
    auto replay = browser.get(used);
    CHECK(replay.status == 400);
    CHECK_THAT(replay.body, Catch::Contains("not valid any more"));
    // A fresh state with the spent code: HubSpot refuses the code.
    auto to_hubspot = browser.get_once(tandem_.install_url());
    REQUIRE(to_hubspot.status == 302);
    std::string location(*to_hubspot.headers.get("Location"));
    std::string state = location.substr(location.find("&state=") + 7);
    std::string code = used.substr(used.find("code=") + 5);
    code = code.substr(0, code.find('&'));
    auto twice = browser.get(callback + "?code=" + code + "&state=" + state);
    CHECK(twice.status == 400);
    CHECK_THAT(twice.body, Catch::Contains("refused the authorization code"));
    // What the first install stored is unchanged.
    auto after = tandem_.tokens->tokens(kPortalA);
    REQUIRE((after.has_value() && after->has_value()));
    CHECK((*after)->access_token == (*before)->access_token);
  }
  SECTION("the token endpoint fails") {
    sandbox.set_faults(json::array({json{{"path", "/oauth/2026-03/token"}, {"errorRate", 1.0}, {"errorStatuses", {503}}}}));
    Browser browser;
    auto r = browser.get(tandem_.install_url());
    CHECK(r.status == 502);
    CHECK_THAT(r.body, Catch::Contains("could not be reached"));
    CHECK(nothing_stored());
  }
}

TEST_CASE("install: an expired code is refused and nothing is stored", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  sc.oauth.code_ttl_s = 1;
  LiveSandbox sandbox(sc);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  Browser browser;
  auto to_hubspot = browser.get_once(tandem_.install_url());
  auto back = browser.get_once(std::string(*to_hubspot.headers.get("Location")));
  REQUIRE(back.status == 302);
  std::this_thread::sleep_for(1200ms);
  auto r = browser.get(std::string(*back.headers.get("Location")));
  CHECK(r.status == 400);
  CHECK_THAT(r.body, Catch::Contains("refused the authorization code"));
  auto accounts = tandem_.tokens->accounts();
  REQUIRE(accounts.has_value());
  CHECK(accounts->empty());
}

namespace {
// Tandem's clock an hour ahead of HubSpot's.
class SkewedClock final : public tandem::Clock {
 public:
  [[nodiscard]] WallTime now() const override { return std::chrono::system_clock::now() + std::chrono::hours(1); }
  [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
};
}  // namespace

TEST_CASE("install: a clock an hour off HubSpot's neither refuses the install nor takes fresh tokens for expired ones", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 1}}, kPortalA);
  SkewedClock skewed;
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"), "", skewed);
  Browser browser;
  auto page = browser.get(tandem_.install_url());
  REQUIRE(page.status == 200);
  const int exchanges = tandem::testing::token_requests(sandbox);
  auto contacts = contact_ids(sandbox, kPortalA);
  record_update(tandem_, kPortalA, contacts.at(0), "skewed", "skew:1");
  REQUIRE(wait_until([&] { return contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") == "skewed"; }, 15s));
  // Expiry is counted from expires_in on Tandem's own clock: no refresh was needed.
  CHECK(tandem::testing::token_requests(sandbox) == exchanges);
}

TEST_CASE("install: a refused refresh token pauses the account's writes until it is installed again", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA}, /*token_ttl_s=*/3);
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 2}}, kPortalA);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"), "  refresh_before: 1s\n");
  Browser browser;
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  // HubSpot revokes the refresh token (as on uninstall).
  auto stored = tandem_.tokens->tokens(kPortalA);
  REQUIRE((stored.has_value() && stored->has_value()));
  tandem::http::Request revoke;
  revoke.method = "POST";
  revoke.target = "/oauth/2026-03/token/revoke";
  revoke.headers.set("Content-Type", "application/x-www-form-urlencoded");
  revoke.body = "client_id=" + sc.app.client_id + "&client_secret=" + sc.app.client_secret +
                "&token=" + std::string((*stored)->refresh_token.reveal());
  auto revoked = tandem::http::fetch(sandbox.base(), revoke);
  REQUIRE((revoked.has_value() && revoked->status == 204));
  std::this_thread::sleep_for(2500ms);  // the access token is due for its refresh
  auto contacts = contact_ids(sandbox, kPortalA);
  record_update(tandem_, kPortalA, contacts.at(0), "after re-install", "reauth:1");
  REQUIRE(wait_until([&] {
    auto a = tandem_.tokens->account(kPortalA);
    return a.has_value() && a->has_value() && (*a)->status == tandem::oauth::AccountStatus::kNeedsReauthorisation;
  }, 15s));
  // /readyz stays ready and names the account; the item is kept, not dead.
  auto ready = tandem::http::fetch(tandem_.base(), tandem::http::Request{"GET", "/readyz", {}, {}, {}});
  REQUIRE(ready.has_value());
  CHECK(ready->status == 200);
  auto body = json::parse(ready->body);
  CHECK(body.at("details").at("accounts").at("needs_reauthorisation").at(0).at("portal") == kPortalA);
  std::this_thread::sleep_for(500ms);
  auto stats = tandem_.outbox->stats(tandem::to_epoch_ms(tandem::SystemClock::instance().now()));
  REQUIRE(stats.has_value());
  std::int64_t pending = 0, dead = 0;
  for (const auto& l : stats->lanes) {
    pending += l.pending;
    dead += l.dead;
  }
  CHECK(pending == 1);
  CHECK(dead == 0);
  CHECK(contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") != "after re-install");
  // An admin installs again: the account resumes and the kept write goes out.
  Browser again;
  REQUIRE(again.get(tandem_.install_url()).status == 200);
  REQUIRE(wait_until([&] { return contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") == "after re-install"; }, 15s));
  auto a = tandem_.tokens->account(kPortalA);
  CHECK((*a)->status == tandem::oauth::AccountStatus::kConnected);
}

TEST_CASE("install: while the token endpoint fails many callers cause one refresh and then back off", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA}, /*token_ttl_s=*/2);
  LiveSandbox sandbox(sc);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"), "  refresh_before: 1s\n  retry_base: 30s\n  retry_cap: 60s\n");
  Browser browser;
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  std::this_thread::sleep_for(2200ms);  // expired
  sandbox.set_faults(json::array({json{{"path", "/oauth/2026-03/token"}, {"errorRate", 1.0}, {"errorStatuses", {500}}}}));
  const int before = tandem::testing::token_requests(sandbox);
  auto first = many_tokens(tandem_, kPortalA, 50);
  CHECK(first.empty());  // expired and not refreshed: no caller gets a token that HubSpot would refuse
  auto second = many_tokens(tandem_, kPortalA, 50);
  CHECK(second.empty());
  CHECK(tandem::testing::token_requests(sandbox) == before + 1);  // the second wave waits out the backoff
  auto account = tandem_.tokens->account(kPortalA);
  CHECK((*account)->status == tandem::oauth::AccountStatus::kConnected);  // a failure for now, not a refusal
}

TEST_CASE("install: tandem accounts lists and shows the account and disconnect stops its work", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 1}}, kPortalA);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  Browser browser;
  auto page = browser.get(tandem_.install_url());
  REQUIRE(page.status == 200);
  auto stored = tandem_.tokens->tokens(kPortalA);
  REQUIRE((stored.has_value() && stored->has_value()));
  const std::string access((*stored)->access_token.reveal()), refresh((*stored)->refresh_token.reveal());
  // No page shows a token or the client secret.
  CHECK(page.body.find(access) == std::string::npos);
  CHECK(page.body.find(refresh) == std::string::npos);
  CHECK(page.body.find(sc.app.client_secret) == std::string::npos);
  { std::ofstream(dir.file("tandem.yaml")) << tandem_.config_yaml; }
  auto [list_code, list_out, list_err] = cli({"accounts", "list", "--config", dir.file("tandem.yaml")});
  INFO(list_out << list_err);
  CHECK(list_code == 0);
  CHECK_THAT(list_out, Catch::Contains("12345678    connected"));
  CHECK_THAT(list_out, Catch::Contains("Europe/Berlin"));
  auto [json_code, json_out, json_err] = cli({"accounts", "show", "12345678", "--json", "--config", dir.file("tandem.yaml")});
  REQUIRE(json_code == 0);
  auto shown = json::parse(json_out);
  CHECK(shown.at("status") == "connected");
  CHECK(shown.at("properties_ready") == true);
  CHECK(shown.at("outbox").at("pending") == 0);
  for (const auto& text : {list_out, json_out}) {
    CHECK(text.find(access) == std::string::npos);
    CHECK(text.find(refresh) == std::string::npos);
  }
  // Disconnect: HubSpot is told (uninstall and revocation), the tokens are deleted, and the
  // running service stops writing for the account within its sync interval.
  auto [dc_code, dc_out, dc_err] = cli({"accounts", "disconnect", "12345678", "--config", dir.file("tandem.yaml")});
  INFO(dc_out << dc_err);
  REQUIRE(dc_code == 0);
  CHECK_THAT(dc_out, Catch::Contains("uninstalled the app from the account in HubSpot"));
  CHECK_THAT(dc_out, Catch::Contains("revoked the refresh token at HubSpot"));
  auto gone = tandem_.tokens->tokens(kPortalA);
  REQUIRE(gone.has_value());
  CHECK_FALSE(gone->has_value());
  auto contacts = contact_ids(sandbox, kPortalA);
  std::this_thread::sleep_for(500ms);  // two sync intervals
  record_update(tandem_, kPortalA, contacts.at(0), "after disconnect", "dc:1");
  std::this_thread::sleep_for(1500ms);
  CHECK(contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") != "after disconnect");
  auto stats = tandem_.outbox->stats(tandem::to_epoch_ms(tandem::SystemClock::instance().now()));
  REQUIRE(stats.has_value());
  std::int64_t pending = 0, dead = 0;
  for (const auto& l : stats->lanes) {
    pending += l.pending;
    dead += l.dead;
  }
  CHECK(pending == 1);
  CHECK(dead == 0);
  auto [after_code, after_out, after_err] = cli({"accounts", "list", "--config", dir.file("tandem.yaml")});
  CHECK_THAT(after_out, Catch::Contains("disconnected"));
}

namespace {

tandem::oauth::AccountStatus status_of(TandemUnderTest& t, std::int64_t portal) {
  auto a = t.tokens->account(portal);
  REQUIRE(a.has_value());
  REQUIRE(a->has_value());
  return (*a)->status;
}

json readyz(TandemUnderTest& t) {
  auto ready = tandem::http::fetch(t.base(), tandem::http::Request{"GET", "/readyz", {}, {}, {}});
  REQUIRE(ready.has_value());
  return json::parse(ready->body);
}

// The journal requests Tandem made, in order ("earliest" or "next").
std::vector<std::string> journal_reads(LiveSandbox& sandbox) {
  std::vector<std::string> out;
  const json log = sandbox.call("GET", "/_sandbox/requests", json(), 200);
  for (const auto& e : log.at("results")) {
    const std::string target = e.at("target");
    if (target.rfind("/webhooks-journal/journal/2026-03/", 0) != 0) continue;
    out.push_back(target.find("/earliest") != std::string::npos ? "earliest" : "next");
  }
  return out;
}

// What Tandem's own reader is given, for a reader the test drives itself.
tandem::oauth::UninstallNoticesOptions journal_reader_options(const LiveSandbox& sandbox, const tandem::sandbox::SandboxConfig& sc) {
  tandem::oauth::UninstallNoticesOptions options;
  options.api_origin = sandbox.base();
  options.endpoint.origin = sandbox.base();
  options.endpoint.client_id = sc.app.client_id;
  options.endpoint.client_secret = Secret(sc.app.client_secret);
  options.app_id = sc.app.id;
  return options;
}

}  // namespace

TEST_CASE("install: an uninstall made in HubSpot disconnects the account at the next journal read", "[oauth][install]") {
  using tandem::oauth::AccountStatus;
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  sandbox.seed(json{{"generateContacts", 1}}, kPortalA);
  auto contacts = contact_ids(sandbox, kPortalA);
  const std::string journal_yaml = "  uninstall_notices: true\n  uninstall_poll_interval: 1s\n";
  {
    TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"), journal_yaml);
    Browser browser;
    REQUIRE(browser.get(tandem_.install_url()).status == 200);
    // At its first read Tandem subscribes the app to uninstall events.
    REQUIRE(wait_until([&] { return sandbox.call("GET", "/_sandbox/journal", json(), 200).at("subscriptions").size() == 1; }, 10s));
    REQUIRE(wait_until([&] { return readyz(tandem_).at("details").at("uninstall_notices").at("subscribed") == true; }, 10s));
    // An admin uninstalls Tandem in HubSpot's settings.
    sandbox.call("POST", "/_sandbox/portals/12345678/uninstall", json{{"userId", 9001}}, 204);
    REQUIRE(wait_until([&] { return status_of(tandem_, kPortalA) == AccountStatus::kDisconnected; }, 10s));
    auto account = tandem_.tokens->account(kPortalA);
    CHECK_THAT((*account)->status_reason, Catch::Contains("uninstalled in HubSpot by user 9001"));
    auto tokens = tandem_.tokens->tokens(kPortalA);
    REQUIRE(tokens.has_value());
    CHECK_FALSE(tokens->has_value());
    json details = readyz(tandem_).at("details");
    CHECK(details.at("uninstall_notices").at("uninstalls") == 1);
    CHECK(details.at("uninstall_notices").at("last_error") == "");
    CHECK(details.at("accounts").at("disconnected") == 1);
    // Its writes stop: a change planned now is kept, not written.
    record_update(tandem_, kPortalA, contacts.at(0), "after uninstall", "un:1");
    std::this_thread::sleep_for(1500ms);
    CHECK(contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") != "after uninstall");

    // Installed again: connected, and the uninstall already read is not applied again.
    REQUIRE(browser.get(tandem_.install_url()).status == 200);
    std::this_thread::sleep_for(2500ms);  // two more reads
    CHECK(status_of(tandem_, kPortalA) == AccountStatus::kConnected);
    record_update(tandem_, kPortalA, contacts.at(0), "after reinstall", "un:2");
    REQUIRE(wait_until([&] { return contact_props(sandbox, kPortalA, contacts[0]).value("jobtitle", "") == "after reinstall"; }, 15s));
  }
  // After a restart Tandem goes on from the offset it stored, not from the earliest entry.
  sandbox.call("DELETE", "/_sandbox/requests", json(), 204);
  TandemUnderTest again(sandbox, sc, port, dir.file("tandem.db"), journal_yaml);
  REQUIRE(wait_until([&] { return !journal_reads(sandbox).empty(); }, 10s));
  CHECK(journal_reads(sandbox).front() == "next");
  std::this_thread::sleep_for(1500ms);
  CHECK(status_of(again, kPortalA) == AccountStatus::kConnected);
}

TEST_CASE("install: an uninstall older than the account's last install leaves it connected", "[oauth][install]") {
  using tandem::oauth::AccountStatus;
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA, kPortalB});
  LiveSandbox sandbox(sc);
  // Tandem's own reader is off; the test reads the journal itself with the same class.
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  auto options = journal_reader_options(sandbox, sc);
  tandem::MetricsRegistry metrics;
  tandem::oauth::UninstallNotices notices(*tandem_.tokens, metrics, tandem::SystemClock::instance(), options);
  CHECK(notices.poll().empty());  // subscribes; nothing journaled yet
  CHECK(notices.status().at("subscribed") == true);
  Browser browser;
  browser.choose = choose_account(kPortalA);
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  browser.choose = choose_account(kPortalB);
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  // Account A: uninstalled, then installed again before Tandem read the journal.
  sandbox.call("POST", "/_sandbox/portals/12345678/uninstall", json{{"userId", 9001}}, 204);
  std::this_thread::sleep_for(20ms);
  browser.choose = choose_account(kPortalA);
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  // Account B: uninstalled.
  sandbox.call("POST", "/_sandbox/portals/87654321/uninstall", json::object(), 204);
  auto gone = notices.poll();
  CHECK(gone == std::vector<std::int64_t>{kPortalB});
  CHECK(status_of(tandem_, kPortalA) == AccountStatus::kConnected);
  CHECK(status_of(tandem_, kPortalB) == AccountStatus::kDisconnected);
  CHECK(notices.status().at("uninstalls") == 1);
  // Read again: nothing new, nothing done twice.
  CHECK(notices.poll().empty());
  CHECK(notices.status().at("last_error") == "");
}

TEST_CASE("install: when the journal cannot be read the uninstall reader says why and reads the uninstall later", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  auto options = journal_reader_options(sandbox, sc);
  options.endpoint.client_secret = Secret("not the secret");
  tandem::MetricsRegistry metrics;
  tandem::oauth::UninstallNotices notices(*tandem_.tokens, metrics, tandem::SystemClock::instance(), options);
  CHECK(notices.poll().empty());
  const std::string error = notices.status().at("last_error");
  CHECK_THAT(error, Catch::Contains("BAD_CLIENT_SECRET"));
  CHECK(error.find("not the secret") == std::string::npos);
  CHECK(notices.status().at("subscribed") == false);
  // The journal down: the next round says so too, and nothing is disconnected.
  sandbox.set_faults(json::array({json{{"path", "/webhooks-journal/journal/2026-03/earliest"}, {"errorRate", 1.0}, {"errorStatuses", {503}}}}));
  options.endpoint.client_secret = Secret(sc.app.client_secret);
  tandem::oauth::UninstallNotices working(*tandem_.tokens, metrics, tandem::SystemClock::instance(), options);
  Browser browser;
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  CHECK(working.poll().empty());  // subscribes, then cannot read
  CHECK(working.status().at("subscribed") == true);
  sandbox.call("POST", "/_sandbox/portals/12345678/uninstall", json::object(), 204);
  CHECK(working.poll().empty());
  CHECK_THAT(working.status().at("last_error").get<std::string>(), Catch::Contains("503"));
  CHECK(status_of(tandem_, kPortalA) == tandem::oauth::AccountStatus::kConnected);
  // The journal back: the uninstall it could not read before is read now.
  sandbox.set_faults(json::array());
  CHECK(working.poll() == std::vector<std::int64_t>{kPortalA});
  CHECK(working.status().at("last_error") == "");
  CHECK(status_of(tandem_, kPortalA) == tandem::oauth::AccountStatus::kDisconnected);
}

TEST_CASE("install: tandem rules check --account checks names and values against the account's properties", "[oauth][install]") {
  TempDir dir;
  const auto port = tandem::testing::free_port();
  auto sc = tandem::testing::install_sandbox_config(port, {kPortalA});
  LiveSandbox sandbox(sc);
  TandemUnderTest tandem_(sandbox, sc, port, dir.file("tandem.db"));
  Browser browser;
  REQUIRE(browser.get(tandem_.install_url()).status == 200);
  { std::ofstream(dir.file("tandem.yaml")) << tandem_.config_yaml; }
  // tandem_recycle_count exists in the account (Tandem created it at the install), not among
  // HubSpot's defaults; the other two lines have a misspelt property and a misspelt option.
  { std::ofstream(dir.file("rules.yaml")) << "qualify:\n"
                                            "  - name: Recycled hand-raisers\n"
                                            "    when: tandem_recycle_count >= 1 and jobtitel contains \"data\"\n"
                                            "    stage: salesqualifiedlead\n"
                                            "  - name: Status\n"
                                            "    when: hs_lead_status == \"UNQUALIFED\"\n"
                                            "    stage: lead\n"; }
  const std::string portal = std::to_string(kPortalA);
  auto [code, out, err] = cli({"rules", "check", dir.file("rules.yaml"), "--account", portal, "--config", dir.file("tandem.yaml")});
  INFO(out << err);
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains(":3:41: error: unknown property 'jobtitel'; did you mean 'jobtitle'?"));
  CHECK_THAT(out, Catch::Contains(":6:29: error: 'UNQUALIFED' is not a value of 'hs_lead_status'; did you mean \"UNQUALIFIED\"?"));
  CHECK(out.find("'tandem_recycle_count'") == std::string::npos);  // known in the account: no diagnostic
  CHECK_THAT(out, Catch::Contains("checked against the "));
  CHECK_THAT(out, Catch::Contains(" contact properties of account " + portal + "\n"));

  // Corrected, the rules are clean against the account.
  { std::ofstream(dir.file("rules.yaml")) << "qualify:\n"
                                            "  - name: Recycled hand-raisers\n"
                                            "    when: tandem_recycle_count >= 1 and jobtitle contains \"data\"\n"
                                            "    stage: salesqualifiedlead\n"; }
  auto [ok_code, ok_out, ok_err] = cli({"rules", "check", dir.file("rules.yaml"), "--account", portal, "--config", dir.file("tandem.yaml")});
  INFO(ok_out << ok_err);
  CHECK(ok_code == 0);
  CHECK_THAT(ok_out, Catch::Contains("0 errors, 0 warnings"));

  // An account Tandem is not installed in, and --properties with --account, are usage errors.
  auto [none_code, none_out, none_err] = cli({"rules", "check", dir.file("rules.yaml"), "--account", "999", "--config", dir.file("tandem.yaml")});
  CHECK(none_code == 2);
  CHECK_THAT(none_err, Catch::Contains("no account 999"));
  const std::string export_file = std::string(TANDEM_SOURCE_DIR) + "/tests/data/rules/properties.json";
  auto [both_code, both_out, both_err] = cli({"rules", "check", dir.file("rules.yaml"), "--account", portal, "--properties",
                                             export_file, "--config", dir.file("tandem.yaml")});
  CHECK(both_code == 2);
  CHECK_THAT(both_out + both_err, Catch::Contains("excludes"));
  // An export from elsewhere does not know the account's own property: only the account does.
  auto [file_code, file_out, file_err] = cli({"rules", "check", dir.file("rules.yaml"), "--properties", export_file});
  CHECK(file_code == 1);
  CHECK_THAT(file_out, Catch::Contains("unknown property 'tandem_recycle_count'"));
}
