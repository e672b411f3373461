#include <catch2/catch.hpp>

#include <cstdlib>

#include <yaml-cpp/yaml.h>

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

TEST_CASE("booleans are true or false only, YAML 1.1 spellings are errors") {
  for (const char* spelling : {"yes", "no", "on", "off", "y", "True", "FALSE", "1"}) {
    INFO(spelling);
    auto doc = Document::parse(std::string("server:\n  tls: ") + spelling + "\n", "tandem.yaml");
    auto s = read(doc);
    CHECK_FALSE(s.tls);
    REQUIRE(doc.diagnostics().error_count() == 1);
    CHECK_THAT(doc.diagnostics().format(), Catch::StartsWith(std::string("tandem.yaml:2:8: error: server.tls: '") +
                                                             spelling + "' is not true or false"));
  }
  CHECK(tandem::config::parse_boolean("true") == true);
  CHECK(tandem::config::parse_boolean("false") == false);
  CHECK_FALSE(tandem::config::parse_boolean("yes"));
}

TEST_CASE("a key given twice is an error at the second one") {
  auto doc = Document::parse("server:\n  workers: 2\n  workers: 3\n", "tandem.yaml");
  auto s = read(doc);
  CHECK(s.workers == 2);
  REQUIRE(doc.diagnostics().error_count() == 1);
  CHECK_THAT(doc.diagnostics().format(), Catch::StartsWith("tandem.yaml:3:3: error: server.workers: given twice"));
}

TEST_CASE("a base URL loses its trailing slash so that paths append cleanly") {
  auto read_url = [](Document& doc) {
    auto root = doc.root();
    auto server = root.section("server");
    auto url = server.base_url("public_url", "");
    server.finish();
    root.finish();
    return url;
  };
  {
    auto doc = Document::parse("server:\n  public_url: https://tandem.example.com/\n", "tandem.yaml");
    CHECK(read_url(doc) + "/webhooks/hubspot" == "https://tandem.example.com/webhooks/hubspot");
    CHECK(doc.diagnostics().empty());
  }
  {
    auto doc = Document::parse("server:\n  public_url: https://example.com/hooks//\n", "tandem.yaml");
    CHECK(read_url(doc) == "https://example.com/hooks");
  }
  for (const char* bad : {"ftp://example.com", "example.com", "https://", "https:///x", "https://example.com/?a=1"}) {
    INFO(bad);
    auto doc = Document::parse(std::string("server:\n  public_url: \"") + bad + "\"\n", "tandem.yaml");
    CHECK(read_url(doc).empty());
    CHECK_THAT(doc.diagnostics().format(), Catch::Contains("tandem.yaml:2:15: error: server.public_url: '"));
  }
}

TEST_CASE("a file named in the configuration is read at once, an unreadable one reported at its key") {
  auto doc =
      Document::parse("server:\n  tls:\n    certificate_file: /no/such/dir/cert.pem\n    key_file: /\n", "tandem.yaml");
  auto tls = doc.root().section("server").section("tls");
  CHECK_FALSE(tls.file_contents("certificate_file"));
  CHECK_FALSE(tls.file_contents("key_file"));
  auto text = doc.diagnostics().format();
  CHECK_THAT(text, Catch::Contains("tandem.yaml:3:23: error: server.tls.certificate_file: cannot read "
                                   "/no/such/dir/cert.pem: No such file or directory"));
  CHECK_THAT(text, Catch::Contains("tandem.yaml:4:15: error: server.tls.key_file: cannot read /: Is a directory"));
}

TEST_CASE("lists of mappings are sections with indexed paths") {
  auto doc = Document::parse("owners:\n  - id: \"1\"\n  - id: \"2\"\n    emial: x@example.com\n  - just a string\n",
                             "sandbox.yaml");
  auto root = doc.root();
  std::vector<std::string> ids;
  for (auto owner : root.sections("owners")) {
    ids.push_back(owner.string("id", ""));
    owner.string("email", "");
    owner.finish();
  }
  root.finish();
  CHECK(ids == std::vector<std::string>{"1", "2"});
  auto text = doc.diagnostics().format();
  CHECK(doc.diagnostics().error_count() == 2);
  CHECK_THAT(text, Catch::Contains("sandbox.yaml:4:5: error: owners[1].emial: unknown key; did you mean 'email'?"));
  CHECK_THAT(text, Catch::Contains("sandbox.yaml:5:5: error: owners[2]: expected a mapping of keys to values"));
}

TEST_CASE("a list from the file must be a YAML list, only the environment gives a comma-separated one") {
  auto doc = Document::parse("hubspot:\n  scopes: oauth,crm\n", "tandem.yaml");
  doc.apply_environment({{"TANDEM_HUBSPOT__REDIRECTS", "a,b"}});
  auto hubspot = doc.root().section("hubspot");
  CHECK(hubspot.strings("scopes").empty());
  CHECK(hubspot.strings("redirects") == std::vector<std::string>{"a", "b"});
  CHECK_THAT(doc.diagnostics().format(), Catch::Contains("hubspot.scopes: expected a list of strings"));
}

TEST_CASE("a section over a parsed node speaks of itself by a noun, into the caller's diagnostics") {
  const std::string text = "qualify:\n  - nme: MQL\n    when: fit > 1\n    when: fit > 2\n";
  YAML::Node root = YAML::Load(text);
  tandem::Diagnostics sink;
  sink.error("rules.yaml", 1, 1, "an earlier problem of the caller");
  auto doc = Document::adopt(root, text, "rules.yaml", sink);
  auto rule = doc.section_at(root["qualify"][0], "a qualify rule");
  std::string when;
  CHECK(rule.raw("name", [](const YAML::Node&, const YAML::Node&) {}) == false);
  CHECK(rule.raw("when", [&](const YAML::Node& key, const YAML::Node& value) {
    when = value.Scalar();
    CHECK(key.Mark().line == 2);
  }));
  rule.finish();
  CHECK(when == "fit > 1");
  REQUIRE(sink.error_count() == 3);
  CHECK(sink.all()[1].format() ==
        "rules.yaml:2:5: error: unknown key 'nme' in a qualify rule; did you mean 'name'?\n"
        "    - nme: MQL\n"
        "      ^\n");
  CHECK(sink.all()[2].message == "'when' is given twice in a qualify rule");
  CHECK(&doc.diagnostics() == &sink);
}
