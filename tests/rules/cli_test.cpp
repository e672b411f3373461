// `tandem rules ...` through the real command line: subcommands, options and exit codes.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

#include "tests/support/run_cli.hpp"

namespace {

struct Run {
  int code;
  std::string out;
};

Run tandem_cli(std::vector<std::string> args) {
  REQUIRE(::chdir(TANDEM_SOURCE_DIR) == 0);
  auto r = tandem::testing::run_cli(std::move(args));
  return {r.code, r.out};
}

}  // namespace

TEST_CASE("tandem rules: exit codes 0 ok, 1 problems, 2 usage") {
  CHECK(tandem_cli({"rules", "check", "examples/rules"}).code == 0);
  CHECK(tandem_cli({"rules", "check", "tests/data/rules/errors.yaml"}).code == 1);
  CHECK(tandem_cli({"rules", "check"}).code == 2);
  CHECK(tandem_cli({"rules", "check", "no/such/dir"}).code == 2);
  CHECK(tandem_cli({"rules", "check", "examples/rules", "--no-such-flag"}).code == 2);
  CHECK(tandem_cli({"rules"}).code == 2);

  const Run test = tandem_cli({"rules", "test", "examples/rules"});
  CHECK(test.code == 0);
  CHECK(test.out == "22 passed, 0 failed\n");
  CHECK(tandem_cli({"rules", "test", "tests/data/rules/failing-test.yaml"}).code == 1);
  // --verbose names every test with its place, then the same summary.
  const Run verbose = tandem_cli({"rules", "test", "--verbose", "examples/rules"});
  CHECK(verbose.code == 0);
  CHECK(verbose.out.rfind("PASS examples/rules/tests/lead-rules-test.yaml:", 0) == 0);
  CHECK(std::count(verbose.out.begin(), verbose.out.end(), '\n') == 23);
  CHECK(verbose.out.substr(verbose.out.size() - test.out.size()) == test.out);

  const Run explain = tandem_cli({"rules", "explain", "--rules", "examples/rules", "--contact",
                                  "examples/rules/contacts/ada.json", "--at", "2026-11-20T10:00:00Z", "--json"});
  CHECK(explain.code == 0);
  CHECK(explain.out.find("\"target_stage\": \"lead\"") != std::string::npos);
  CHECK(tandem_cli({"rules", "explain", "--rules", "examples/rules"}).code == 2);

  const Run simulate = tandem_cli({"rules", "simulate", "--rules", "examples/rules", "--contacts",
                                   "tests/data/rules/contacts.csv", "--at", "2026-11-20T10:00:00Z"});
  CHECK(simulate.code == 0);
  CHECK(simulate.out.find("over 3 contacts") != std::string::npos);

  // Stored state in the export is read, and a wrong state value is a malformed line, not a usage error.
  const Run state = tandem_cli({"rules", "simulate", "--rules", "examples/rules", "--contacts",
                                "tests/data/rules/contacts-state.csv", "--at", "2026-11-20T10:00:00Z"});
  CHECK(state.code == 0);
  CHECK(state.out.find("over 4 contacts, 3 with Tandem's stored state (1 malformed line skipped)\n") !=
        std::string::npos);
  CHECK(state.out.find("  skipped line 5: tandem.recycle_count: \"two\" is not a whole number from 0 to 1000000\n") !=
        std::string::npos);
}
