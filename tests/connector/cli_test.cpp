#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "common/config.hpp"
#include "connector/cli.hpp"
#include "connector/config.hpp"

namespace {
int run(std::vector<std::string> args) {
  args.insert(args.begin(), "tandem");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return tandem::connector::run_cli(static_cast<int>(argv.size()), argv.data());
}

struct Checked {
  int code;
  std::string err;
};

// `tandem config check` over a file holding `yaml`, with what it printed on stderr.
Checked config_check(const std::string& yaml) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-cli-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tandem.yaml").string();
  std::ofstream(path) << yaml;
  std::ostringstream err;
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  const int code = run({"config", "check", "--config", path});
  std::cerr.rdbuf(old_err);
  fs::remove_all(dir);
  // Paths differ between machines; the diagnostics start with the file name.
  std::string text = err.str();
  for (std::size_t at; (at = text.find(path)) != std::string::npos;) text.replace(at, path.size(), "tandem.yaml");
  return {code, text};
}

tandem::connector::TandemConfig read(const std::string& yaml, tandem::Diagnostics& diagnostics) {
  auto document = tandem::config::Document::parse(yaml, "tandem.yaml");
  return tandem::connector::read_config(document, diagnostics, /*require_credentials=*/false);
}
}  // namespace

TEST_CASE("usage errors exit 2") {
  CHECK(run({"--no-such-flag"}) == 2);
  CHECK(run({"no-such-command"}) == 2);
  CHECK(run({}) == 2);
  CHECK(run({"version", "--bogus"}) == 2);
}

TEST_CASE("help and version exit 0") {
  CHECK(run({"--help"}) == 0);
  CHECK(run({"version"}) == 0);
  CHECK(run({"config", "check", "--help"}) == 0);
}

TEST_CASE("config check exits 1 on a bad file and 0 on a valid one") {
  std::string path = std::string(TANDEM_TEST_DATA_DIR) + "/config/typo.yaml";
  CHECK(run({"config", "check", "--config", path}) == 1);
  CHECK(run({"config", "check", "--config", std::string(TANDEM_SOURCE_DIR) + "/examples/tandem.yaml"}) == 0);
}

TEST_CASE("inbox commands refuse a database that does not exist instead of creating one") {
  std::string path = std::string(TANDEM_TEST_DATA_DIR) + "/no-such-inbox.db";
  CHECK(run({"inbox", "stats", "--db", path}) == 1);
  std::ifstream created(path);
  CHECK_FALSE(created.good());
}

TEST_CASE("config check rejects a listen port serve could not use, at its line and column") {
  auto bad = config_check("server:\n  listen: 127.0.0.1:80abc\n");
  CHECK(bad.code == 1);
  CHECK(bad.err ==
        "tandem.yaml:2:11: error: server.listen: the port '80abc' is not a number\n"
        "    listen: 127.0.0.1:80abc\n"
        "            ^\n"
        "1 error(s) in the configuration\n");
  CHECK_THAT(config_check("server:\n  listen: 127.0.0.1:70000\n").err,
             Catch::Contains("tandem.yaml:2:11: error: server.listen: the port 70000 is out of range [0, 65535]"));
  CHECK_THAT(config_check("server:\n  listen: 127.0.0.1\n").err,
             Catch::Contains("tandem.yaml:2:11: error: server.listen: expected host:port"));
  CHECK(config_check("server:\n  listen: \"[::1]:8080\"\n").code == 0);
}

TEST_CASE("config check reads the TLS files and reports one it cannot read at its key") {
  auto bad = config_check("server:\n  tls:\n    certificate_file: /no/such/dir/cert.pem\n    private_key_file: /\n");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Catch::Contains("tandem.yaml:3:23: error: server.tls.certificate_file: cannot read "
                                      "/no/such/dir/cert.pem: No such file or directory"));
  CHECK_THAT(bad.err,
             Catch::Contains("tandem.yaml:4:23: error: server.tls.private_key_file: cannot read /: Is a directory"));
  CHECK_THAT(bad.err, Catch::EndsWith("2 error(s) in the configuration\n"));
}

TEST_CASE("the TLS material is loaded into the server configuration when the files are PEM") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-tls-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "cert.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream(dir / "key.txt") << "not a key\n";
  tandem::Diagnostics diagnostics;
  auto good = read("server:\n  tls:\n    certificate_file: " + (dir / "cert.pem").string() +
                       "\n    private_key_file: " + (dir / "cert.pem").string() + "\n",
                   diagnostics);
  CHECK_FALSE(diagnostics.has_errors());
  REQUIRE(good.server.tls);
  CHECK_THAT(good.server.tls->certificate_chain_pem, Catch::StartsWith("-----BEGIN CERTIFICATE-----"));
  tandem::Diagnostics bad;
  auto wrong = read("server:\n  tls:\n    certificate_file: " + (dir / "cert.pem").string() +
                        "\n    private_key_file: " + (dir / "key.txt").string() + "\n",
                    bad);
  CHECK_FALSE(wrong.server.tls);
  CHECK_THAT(bad.format(), Catch::Contains("tandem.yaml:4:23: error: server.tls.private_key_file: is not a PEM file"));
  fs::remove_all(dir);
}

TEST_CASE("a public URL ending in a slash gives a webhook URL without a double slash") {
  tandem::Diagnostics diagnostics;
  auto c = read("server:\n  public_url: https://tandem.example.com/\n", diagnostics);
  CHECK_FALSE(diagnostics.has_errors());
  CHECK(c.server.public_url == "https://tandem.example.com");
  CHECK(c.webhooks.public_base_url + c.webhooks.path == "https://tandem.example.com/webhooks/hubspot");
  auto derived = read("server:\n  listen: \"[::1]:9000\"\n", diagnostics);
  CHECK(derived.webhooks.public_base_url == "http://[::1]:9000");
  CHECK(derived.server.listen.host == "::1");
  CHECK(derived.server.listen.port == 9000);
}

TEST_CASE("config check: booleans are true or false, yes is an error") {
  auto bad = config_check("webhooks:\n  accept_v1: yes\n");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Catch::StartsWith("tandem.yaml:2:14: error: webhooks.accept_v1: 'yes' is not true or false"));
}

TEST_CASE("max_attempts is read from the webhooks section, under store it points there") {
  tandem::Diagnostics diagnostics;
  auto c = read("webhooks:\n  max_attempts: 7\n", diagnostics);
  CHECK_FALSE(diagnostics.has_errors());
  CHECK(c.webhooks.max_attempts == 7);
  auto old = config_check("store:\n  max_attempts: 7\n");
  CHECK(old.code == 1);
  CHECK_THAT(old.err, Catch::Contains("tandem.yaml:2:17: error: store.max_attempts: moved to webhooks.max_attempts"));
}

TEST_CASE("config check refuses a webhook path that the listener serves itself, as serve would") {
  for (const char* path : {"/healthz", "/readyz", "/metrics"}) {
    auto bad = config_check(std::string("webhooks:\n  path: ") + path + "\n");
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Catch::StartsWith("tandem.yaml:2:9: error: webhooks.path: is served by Tandem itself"));
  }
  CHECK(config_check("webhooks:\n  path: /hooks/hubspot\n").code == 0);
}
