// The rule-test reader's keys and values (the common walker of common/config.hpp), merge keys.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "golden.hpp"
#include "rules/rule_tests.hpp"
#include "rules/tools.hpp"

using namespace tandem::rules;
using namespace tandem::rules::testing;

namespace {
// Paths in the output are relative to the repository root, as a marketer would type them.
struct InSourceDir {
  InSourceDir() { REQUIRE(::chdir(TANDEM_SOURCE_DIR) == 0); }
};
}  // namespace

TEST_CASE("rules test: mistyped keys get a did-you-mean, 'yes' is no boolean, merge keys still merge") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_test({"tests/data/rules/bad-keys-test.yaml", false}, out, err) == 1);
  CHECK_THAT(err.str(), Catch::Contains("tests/data/rules/bad-keys-test.yaml:19:5: error: unknown key 'expcet' in a "
                                        "test; did you mean 'expect'?\n"
                                        "      expcet: { stage: lead }\n"
                                        "      ^\n"));
  CHECK_THAT(err.str(), Catch::Contains("tests/data/rules/bad-keys-test.yaml:26:24: error: hs_email_optout must be "
                                        "true or false, not 'yes'"));
  // The three tests without mistakes ran and passed: their contacts were merged from *base.
  CHECK(out.str() == "3 passed, 0 failed\n");
  check_golden("bad-keys-test.expected", err.str() + out.str());
}

TEST_CASE("rules test: a mistyped top-level key stops the file before any test runs") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-rule-keys-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "top-test.yaml").string();
  std::ofstream(file, std::ios::binary) << "rule: " << TANDEM_SOURCE_DIR
                                        << "/examples/rules/lead-rules.yaml\n"
                                           "at: 2026-11-20T10:00:00Z\n"
                                           "tests:\n"
                                           "  - name: t\n"
                                           "    contact: { email: a@acme.example }\n"
                                           "    expect: { stage: lead }\n";
  const RuleTestReport report = run_rule_tests(file, false);
  fs::remove_all(dir);
  CHECK(report.diagnostics.format() ==
        file + ":1:1: error: unknown key 'rule' in a rule test file; did you mean 'rules'?\n" +
            "  rule: " + TANDEM_SOURCE_DIR + "/examples/rules/lead-rules.yaml\n" + "  ^\n");
  CHECK(report.passed + report.failed == 0);
}

TEST_CASE("rules test: a quoted 'yes' is text, and true and false are accepted unquoted") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-rule-bools-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "bools-test.yaml").string();
  std::ofstream(file, std::ios::binary) << "rules: " << TANDEM_SOURCE_DIR
                                        << "/examples/rules/lead-rules.yaml\n"
                                           "at: 2026-11-20T10:00:00Z\n"
                                           "tests:\n"
                                           "  - name: t\n"
                                           "    contact: { email: a@acme.example, jobtitle: \"yes\", "
                                           "hs_email_optout: true, webinar_attended: false }\n"
                                           "    expect: { not_ready: [opted_out, missing_data] }\n";
  const RuleTestReport report = run_rule_tests(file, false);
  fs::remove_all(dir);
  CHECK(report.diagnostics.format().empty());
  CHECK(report.output.empty());
  CHECK(report.passed == 1);
}
