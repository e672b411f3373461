#include <catch2/catch.hpp>

#include "common/http.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

std::string query_value(const std::string& location, const std::string& name) {
  auto q = location.find('?');
  auto form = http::parse_form(location.substr(q + 1)).value();
  for (auto& [k, v] : form)
    if (k == name) return v;
  return {};
}

std::string authorize_target(const SandboxConfig& c, const std::string& extra = "&state=xyz") {
  std::string scopes;
  for (const auto& s : c.app.required_scopes) scopes += (scopes.empty() ? "" : "%20") + s;
  return "/oauth/authorize?client_id=" + c.app.client_id + "&scope=" + scopes +
         "&redirect_uri=" + http::form_encode(c.app.redirect_urls[0]) + extra;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += (out.empty() ? "" : "&") + k + "=" + http::form_encode(v);
  return out;
}

}  // namespace

TEST_CASE("sandbox OAuth: authorize redirects with code and state, and the code is single-use on every token path") {
  SandboxFixture f(test_config());
  for (std::string path : {"/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"}) {
    auto r = f.call("GET", authorize_target(f.config), "", "");
    REQUIRE(r.status == 302);
    std::string location(*r.headers.get("Location"));
    CHECK(location.rfind(f.config.app.redirect_urls[0] + "?", 0) == 0);
    CHECK(query_value(location, "state") == "xyz");
    std::string code = query_value(location, "code");
    REQUIRE(!code.empty());
    std::string body = form({{"grant_type", "authorization_code"}, {"client_id", f.config.app.client_id},
                             {"client_secret", f.config.app.client_secret}, {"redirect_uri", f.config.app.redirect_urls[0]},
                             {"code", code}});
    auto t = f.call("POST", path, body, "", "application/x-www-form-urlencoded");
    REQUIRE(t.status == 200);
    auto j = json::parse(t.body);
    CHECK(j.at("expires_in") == 1800);
    CHECK(j.at("hub_id") == 12345678);
    CHECK(j.at("token_type") == "bearer");
    CHECK(!j.at("refresh_token").get<std::string>().empty());
    // The token works.
    auto me = f.call("GET", "/crm/v3/objects/contacts", "", j.at("access_token"));
    CHECK(me.status == 200);
    // Second use of the code fails with both error shapes.
    auto again = f.call("POST", path, body, "", "application/x-www-form-urlencoded");
    REQUIRE(again.status == 400);
    auto e = json::parse(again.body);
    CHECK(e.at("error") == "invalid_grant");
    CHECK(e.at("status") == "BAD_AUTH_CODE");
    CHECK(e.contains("error_description"));
    CHECK(e.contains("message"));
  }
}

TEST_CASE("sandbox OAuth: authorize errors") {
  SandboxFixture f(test_config());
  SECTION("unregistered redirect_uri is refused without a redirect") {
    auto r = f.call("GET", "/oauth/authorize?client_id=" + f.config.app.client_id +
                               "&scope=oauth&redirect_uri=" + http::form_encode("http://evil.example/cb"), "", "");
    CHECK(r.status == 400);
    CHECK(!r.headers.get("Location"));
  }
  SECTION("a missing required scope redirects with error and error_description") {
    auto r = f.call("GET", "/oauth/authorize?client_id=" + f.config.app.client_id + "&scope=oauth&state=s1&redirect_uri=" +
                               http::form_encode(f.config.app.redirect_urls[0]), "", "");
    REQUIRE(r.status == 302);
    std::string location(*r.headers.get("Location"));
    CHECK(query_value(location, "error") == "invalid_scope");
    CHECK(!query_value(location, "error_description").empty());
    CHECK(query_value(location, "state") == "s1");
    CHECK(query_value(location, "code").empty());
  }
  SECTION("a denied install redirects with access_denied") {
    auto r = f.call("GET", authorize_target(f.config, "&sandbox_decision=deny"), "", "");
    REQUIRE(r.status == 302);
    CHECK(query_value(std::string(*r.headers.get("Location")), "error") == "access_denied");
  }
}

TEST_CASE("sandbox OAuth: code lifetime, redirect_uri match, client secret, refresh, introspection, revocation") {
  SandboxFixture f(test_config());
  auto code = [&] {
    auto r = f.call("GET", authorize_target(f.config), "", "");
    return query_value(std::string(*r.headers.get("Location")), "code");
  };
  auto exchange = [&](const std::string& c, const std::string& redirect, const std::string& secret) {
    return f.call("POST", "/oauth/2026-03/token",
                  form({{"grant_type", "authorization_code"}, {"client_id", f.config.app.client_id}, {"client_secret", secret},
                        {"redirect_uri", redirect}, {"code", c}}),
                  "", "application/x-www-form-urlencoded");
  };
  const auto& app = f.config.app;

  auto expired = code();
  f.clock.advance(std::chrono::seconds(601));
  CHECK(json::parse(exchange(expired, app.redirect_urls[0], app.client_secret).body).at("status") == "BAD_AUTH_CODE");

  CHECK(json::parse(exchange(code(), app.redirect_urls[1], app.client_secret).body).at("status") == "BAD_REDIRECT_URI");
  auto bad_secret = exchange(code(), app.redirect_urls[0], "wrong");
  CHECK(bad_secret.status == 400);
  CHECK(json::parse(bad_secret.body).at("error") == "invalid_client");

  auto tokens = json::parse(exchange(code(), app.redirect_urls[0], app.client_secret).body);
  std::string refresh = tokens.at("refresh_token");
  std::string access = tokens.at("access_token");

  auto refreshed = f.call("POST", "/oauth/v3/token",
                          form({{"grant_type", "refresh_token"}, {"client_id", app.client_id}, {"client_secret", app.client_secret},
                                {"refresh_token", refresh}}),
                          "", "application/x-www-form-urlencoded");
  REQUIRE(refreshed.status == 200);
  auto rj = json::parse(refreshed.body);
  CHECK(rj.at("access_token") != access);

  auto introspect = [&](const std::string& field, const std::string& token) {
    return json::parse(f.call("POST", "/oauth/2026-03/token/introspect",
                              form({{"client_id", app.client_id}, {"client_secret", app.client_secret}, {field, token}}), "",
                              "application/x-www-form-urlencoded")
                           .body);
  };
  auto info = introspect("token", access);
  CHECK(info.at("active") == true);
  CHECK(info.at("hub_id") == 12345678);
  CHECK(info.at("token_use") == "access_token");
  CHECK(introspect("refresh_token", refresh).at("token_use") == "refresh_token");
  CHECK(introspect("access_token", "nope").at("active") == false);

  auto v1 = f.call("GET", "/oauth/v1/access-tokens/" + access, "", "");
  REQUIRE(v1.status == 200);
  CHECK(json::parse(v1.body).at("hub_id") == 12345678);

  auto revoke = f.call("POST", "/oauth/2026-03/token/revoke",
                       form({{"client_id", app.client_id}, {"client_secret", app.client_secret}, {"token", refresh}}), "",
                       "application/x-www-form-urlencoded");
  CHECK(revoke.status == 204);
  auto after = f.call("POST", "/oauth/v1/token",
                      form({{"grant_type", "refresh_token"}, {"client_id", app.client_id}, {"client_secret", app.client_secret},
                            {"refresh_token", refresh}}),
                      "", "application/x-www-form-urlencoded");
  CHECK(after.status == 400);
  CHECK(json::parse(after.body).at("status") == "BAD_REFRESH_TOKEN");
}

TEST_CASE("sandbox API auth: 401 without, with an unknown and with an expired token, 403 on a missing scope") {
  SandboxFixture f(test_config());
  auto none = f.call("GET", "/crm/v3/objects/contacts", "", "");
  CHECK(none.status == 401);
  CHECK(json::parse(none.body).at("category") == "INVALID_AUTHENTICATION");
  CHECK(f.call("GET", "/crm/v3/objects/contacts", "", "bogus").status == 401);

  CHECK(f.call("GET", "/crm/v3/objects/contacts").status == 200);
  f.clock.advance(std::chrono::seconds(1800));
  auto expired = f.call("GET", "/crm/v3/objects/contacts");
  REQUIRE(expired.status == 401);
  auto body = json::parse(expired.body);
  CHECK(body.at("category") == "EXPIRED_AUTHENTICATION");
  CHECK(body.at("status") == "error");
  CHECK(body.contains("correlationId"));
  CHECK_THAT(body.at("message").get<std::string>(), Catch::StartsWith("The OAuth token used to make this call expired"));

  std::string read_only = f.mint_token({{"scopes", {"oauth", "crm.objects.contacts.read"}}});
  auto denied = f.call("POST", "/crm/v3/objects/contacts", R"({"properties":{"email":"x@y.com"}})", read_only);
  REQUIRE(denied.status == 403);
  auto d = json::parse(denied.body);
  CHECK(d.at("category") == "MISSING_SCOPES");
  CHECK(d.at("errors").at(0).at("context").at("requiredGranularScopes").at(0) == "crm.objects.contacts.write");
  CHECK(f.call("GET", "/crm/v3/owners", "", read_only).status == 403);
  CHECK(f.call("GET", "/crm/v3/objects/contacts", "", read_only).status == 200);
}
