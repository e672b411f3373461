#include <catch2/catch.hpp>

#include <cstdlib>

#include "common/config.hpp"

using tandem::config::Document;

namespace {

struct Server {
  std::string listen;
  std::int64_t workers = 0;
  std::chrono::milliseconds timeout{0};
  std::uint64_t limit = 0;
  bool tls = false;
};

// A reader in the style every module uses.
Server read(Document& doc) {
  Server s;
  auto root = doc.root();
  auto server = root.section("server");
  s.listen = server.string("listen", "127.0.0.1:8080");
  s.workers = server.integer("workers", 2, 1, 64);
  s.timeout = server.duration("read_timeout", std::chrono::seconds(10));
  s.limit = server.bytes("body_limit", 1024);
  s.tls = server.boolean("tls", false);
  server.finish();
  auto log = root.section("log");
  log.choice("level", "info", {"debug", "info", "warn", "error"});
  log.finish();
  root.finish();
  return s;
}

}  // namespace

TEST_CASE("values are read with their types and units") {
  auto doc = Document::parse("server:\n  listen: 0.0.0.0:9000\n  workers: 4\n  read_timeout: 250ms\n  body_limit: 2MiB\n  tls: true\n",
                             "tandem.yaml");
  auto s = read(doc);
  CHECK(doc.diagnostics().empty());
  CHECK(s.listen == "0.0.0.0:9000");
  CHECK(s.workers == 4);
  CHECK(s.timeout == std::chrono::milliseconds(250));
  CHECK(s.limit == 2 * 1024 * 1024);
  CHECK(s.tls);
}

TEST_CASE("absent keys take their defaults") {
  auto doc = Document::parse("", "tandem.yaml");
  auto s = read(doc);
  CHECK(doc.diagnostics().empty());
  CHECK(s.listen == "127.0.0.1:8080");
  CHECK(s.timeout == std::chrono::seconds(10));
}

TEST_CASE("a mistyped key is an error with its path, position and a did-you-mean") {
  auto doc = Document::parse("server:\n  lisen: 0.0.0.0:9000\n", "tandem.yaml");
  read(doc);
  REQUIRE(doc.diagnostics().error_count() == 1);
  CHECK(doc.diagnostics().format() ==
        "tandem.yaml:2:3: error: server.lisen: unknown key; did you mean 'listen'?\n"
        "    lisen: 0.0.0.0:9000\n"
        "    ^\n");
}

TEST_CASE("every problem is reported at once, each with its key path") {
  auto doc = Document::parse(
      "server:\n  workers: many\n  read_timeout: soon\n  body_limit: 3 parsecs\n  tls: maybe\nlog:\n  level: loud\nextra: 1\n",
      "tandem.yaml");
  read(doc);
  auto text = doc.diagnostics().format();
  CHECK(doc.diagnostics().error_count() == 6);
  CHECK_THAT(text, Catch::Contains("tandem.yaml:2:12: error: server.workers: 'many' is not a whole number"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:3:17: error: server.read_timeout: 'soon' is not a duration"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:4:15: error: server.body_limit: '3 parsecs' is not a size"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:5:8: error: server.tls: 'maybe' is not true or false"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:7:10: error: log.level: 'loud' is not one of: debug, info, warn, error"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:8:1: error: extra: unknown key"));
}

TEST_CASE("numbers out of range are errors") {
  auto doc = Document::parse("server:\n  workers: 65\n", "tandem.yaml");
  read(doc);
  CHECK_THAT(doc.diagnostics().format(), Catch::Contains("server.workers: 65 is out of range [1, 64]"));
}

TEST_CASE("a YAML syntax error is a diagnostic with a position") {
  auto doc = Document::parse("server:\n  listen: [unclosed\n", "tandem.yaml");
  CHECK(doc.diagnostics().has_errors());
  CHECK_THAT(doc.diagnostics().format(), Catch::StartsWith("tandem.yaml:"));
  CHECK_THAT(doc.diagnostics().format(), Catch::Contains("YAML syntax"));
}

TEST_CASE("a section given as a scalar is an error, not a crash") {
  auto doc = Document::parse("server: 8080\n", "tandem.yaml");
  read(doc);
  CHECK_THAT(doc.diagnostics().format(), Catch::Contains("server: expected a mapping"));
}

TEST_CASE("environment variables override the file and are checked as strictly") {
  auto doc = Document::parse("server:\n  listen: 127.0.0.1:1\n", "tandem.yaml");
  doc.apply_environment({{"TANDEM_SERVER__LISTEN", "0.0.0.0:7000"},
                         {"TANDEM_SERVER__WORKERS", "8"},
                         {"TANDEM_SERVER__READ_TIMOUT", "5s"},
                         {"TANDEM_CONFIG", "ignored.yaml"},
                         {"HOME", "/root"}});
  auto s = read(doc);
  CHECK(s.listen == "0.0.0.0:7000");
  CHECK(s.workers == 8);
  REQUIRE(doc.diagnostics().error_count() == 1);
  CHECK(doc.diagnostics().format() ==
        "environment: error: TANDEM_SERVER__READ_TIMOUT (server.read_timout): unknown key; did you mean 'read_timeout'?\n");
}

TEST_CASE("a bad value from the environment names the variable") {
  auto doc = Document::parse("", "tandem.yaml");
  doc.apply_environment({{"TANDEM_SERVER__WORKERS", "lots"}});
  read(doc);
  CHECK_THAT(doc.diagnostics().format(), Catch::Contains("environment: error: TANDEM_SERVER__WORKERS (server.workers): 'lots' is not a whole number"));
}

TEST_CASE("secrets come from the environment or a file, never from the file's text") {
  ::setenv("TANDEM_TEST_SECRET_VALUE", "s3cret", 1);
  SECTION("from the environment") {
    auto doc = Document::parse("hubspot:\n  client_secret: {env: TANDEM_TEST_SECRET_VALUE}\n", "tandem.yaml");
    auto root = doc.root();
    auto hubspot = root.section("hubspot");
    auto secret = hubspot.secret("client_secret", true);
    hubspot.finish();
    root.finish();
    REQUIRE(secret);
    CHECK(secret->reveal() == "s3cret");
    CHECK(doc.diagnostics().empty());
  }
  SECTION("written inline") {
    auto doc = Document::parse("hubspot:\n  client_secret: s3cret\n", "tandem.yaml");
    auto hubspot = doc.root().section("hubspot");
    CHECK_FALSE(hubspot.secret("client_secret", true));
    auto text = doc.diagnostics().format();
    CHECK_THAT(text, Catch::Contains("hubspot.client_secret: secrets are not written in configuration"));
  }
  SECTION("a missing variable") {
    auto doc = Document::parse("hubspot:\n  client_secret: {env: TANDEM_TEST_NOT_SET_ANYWHERE}\n", "tandem.yaml");
    auto hubspot = doc.root().section("hubspot");
    CHECK_FALSE(hubspot.secret("client_secret", true));
    CHECK_THAT(doc.diagnostics().format(),
               Catch::Contains("hubspot.client_secret: environment variable TANDEM_TEST_NOT_SET_ANYWHERE is not set"));
  }
  SECTION("required but absent") {
    auto doc = Document::parse("hubspot: {}\n", "tandem.yaml");
    auto hubspot = doc.root().section("hubspot");
    CHECK_FALSE(hubspot.secret("client_secret", true));
    CHECK_THAT(doc.diagnostics().format(), Catch::Contains("hubspot.client_secret: required"));
  }
  SECTION("a typo inside the secret reference") {
    auto doc = Document::parse("hubspot:\n  client_secret: {evn: X}\n", "tandem.yaml");
    auto hubspot = doc.root().section("hubspot");
    CHECK_FALSE(hubspot.secret("client_secret", true));
    CHECK_THAT(doc.diagnostics().format(), Catch::Contains("hubspot.client_secret.evn: unknown key; did you mean 'env'?"));
  }
}
