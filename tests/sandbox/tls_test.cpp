#include <catch2/catch.hpp>

#include "common/http_client.hpp"
#include "sandbox/sandbox_server.hpp"
#include "tests/sandbox/sandbox_fixture.hpp"
#include "tests/support/tls_fixture.hpp"

using namespace tandem;
using namespace tandem::sandbox;
using namespace tandem::sandbox::testing;

namespace {

http::Request contacts_request(const std::string& token) {
  http::Request request;
  request.method = "GET";
  request.target = "/crm/objects/2026-03/contacts";
  request.headers.set("Authorization", "Bearer " + token);
  return request;
}

}  // namespace

TEST_CASE("sandbox TLS: a self-signed listener answers clients that trust its certificate and only those") {
  auto cert = make_self_signed_certificate();
  REQUIRE(cert.has_value());
  REQUIRE(cert->certificate_chain_pem.find("-----BEGIN CERTIFICATE-----") == 0);
  REQUIRE(cert->private_key_pem.find("-----BEGIN PRIVATE KEY-----") == 0);

  SandboxFixture f(test_config(), {}, *cert);  // mints its token over HTTPS already
  CHECK_THAT(f.base, Catch::StartsWith("https://127.0.0.1:"));
  CHECK_THAT(f.server->startup_info().at("url").get<std::string>(), Catch::StartsWith("https://"));

  http::ClientOptions trusting;
  trusting.extra_ca_pem = cert->certificate_chain_pem;
  auto ok = http::fetch(f.base, contacts_request(f.token), trusting);
  REQUIRE(ok.has_value());
  CHECK(ok->status == 200);
  CHECK(json::parse(ok->body).at("results").is_array());
  // Authentication still applies over TLS.
  auto anonymous = http::fetch(f.base, contacts_request("not-a-token"), trusting);
  REQUIRE(anonymous.has_value());
  CHECK(anonymous->status == 401);

  auto untrusting = http::fetch(f.base, contacts_request(f.token));
  REQUIRE(untrusting.has_error());
  CHECK(untrusting.error().kind == http::ClientError::Kind::kTls);

  // Trusting some other self-signed certificate is no better than trusting none.
  http::ClientOptions wrong_ca;
  wrong_ca.extra_ca_pem = tandem::testing::other_certificate().certificate_pem;
  auto wrong = http::fetch(f.base, contacts_request(f.token), wrong_ca);
  REQUIRE(wrong.has_error());
  CHECK(wrong.error().kind == http::ClientError::Kind::kTls);

  // localhost is in the certificate too (SAN DNS:localhost).
  auto by_name =
      http::fetch("https://localhost:" + std::to_string(f.server->port()), contacts_request(f.token), trusting);
  REQUIRE(by_name.has_value());
  CHECK(by_name->status == 200);
}

TEST_CASE("sandbox TLS: invalid key material fails at construction") {
  auto cert = make_self_signed_certificate();
  REQUIRE(cert.has_value());
  auto other = make_self_signed_certificate();
  REQUIRE(other.has_value());
  CHECK(cert->private_key_pem != other->private_key_pem);  // a fresh key each time
  CHECK_THROWS_AS(SandboxFixture(test_config(), {}, http::TlsServerConfig{cert->certificate_chain_pem, "not a key"}),
                  std::runtime_error);
  CHECK_THROWS_AS(
      SandboxFixture(test_config(), {}, http::TlsServerConfig{cert->certificate_chain_pem, other->private_key_pem}),
      std::runtime_error);
}
