#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <vector>

#include "connector/cli.hpp"

namespace {
int run(std::vector<std::string> args) {
  args.insert(args.begin(), "tandem");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return tandem::connector::run_cli(static_cast<int>(argv.size()), argv.data());
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
