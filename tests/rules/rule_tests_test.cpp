// The rule-test reader's keys and values (the common walker of common/config.hpp), merge keys,
// expected scores and times, and what `rules test` prints.

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
  // The three tests without mistakes ran and passed: their contacts were merged from *base. The
  // others did not run, and say so.
  CHECK(out.str() == "3 passed, 0 failed, 8 not run\n");
  check_golden("bad-keys-test.expected", err.str() + out.str());
}

TEST_CASE("rules test: a misspelt key in expect is a diagnostic, also where it names a model, an SLA or a property") {
  InSourceDir here;
  const RuleTestReport report = run_rule_tests("tests/data/rules/bad-keys-test.yaml", false);
  const std::string diagnostics = report.diagnostics.format();
  // In a block, as a flow mapping, and among the names the rules define: each with where and a
  // suggestion, none a failure (which would run the test and print an explanation).
  CHECK_THAT(diagnostics, Catch::Contains("tests/data/rules/bad-keys-test.yaml:43:7: error: unknown key 'stgae' in "
                                          "expect; did you mean 'stage'?\n"
                                          "        stgae: lead\n"
                                          "        ^\n"));
  CHECK_THAT(diagnostics, Catch::Contains(":44:14: error: unknown fit model 'fitt' in the expected fit; did you mean "
                                          "'fit'?"));
  CHECK_THAT(diagnostics, Catch::Contains(":45:14: error: unknown SLA 'First tuch on MQL' in the expected sla; did you "
                                          "mean 'First touch on MQL'?"));
  CHECK_THAT(diagnostics, Catch::Contains(":46:17: error: unknown property 'lifecyclestgae' in the expected writes; "
                                          "did you mean 'lifecyclestage'?"));
  // Every mistake of a test at once, nested ones too.
  CHECK_THAT(diagnostics, Catch::Contains(":47:21: error: unknown key 'recycle_cont' in next_state; did you mean "
                                          "'recycle_count'?"));
  CHECK_THAT(diagnostics, Catch::Contains(":55:16: error: 'due' is a time"));
  CHECK(report.failed == 0);
  CHECK(report.output.empty());
  CHECK(report.passed == 3);
  CHECK(report.not_run == 8);
  REQUIRE(report.results.size() == 11);
  CHECK(report.results[9].line == 40);
  CHECK(report.results[9].name == "misspelt expectations, also those naming what the rules have");
  CHECK(report.results[9].outcome == RuleTestResult::Outcome::kNotRun);
  CHECK(report.results[0].outcome == RuleTestResult::Outcome::kPassed);
}

TEST_CASE("rules test: merges compose as YAML merge keys do: own keys first, earlier merges before later ones") {
  InSourceDir here;
  // Each test's fit tells which values won. When a merged mapping's own keys lost to what it
  // merged itself (as they once did), seven of the ten failed.
  const RuleTestReport report = run_rule_tests("tests/data/rules/merges-test.yaml", false);
  CHECK(report.diagnostics.format().empty());
  CHECK(report.output.empty());
  CHECK(report.passed == 10);
  CHECK(report.failed == 0);

  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-rule-merges-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "loop-test.yaml").string();
  std::ofstream(file, std::ios::binary) << "rules: " << TANDEM_SOURCE_DIR
                                        << "/examples/rules/lead-rules.yaml\n"
                                           "at: 2026-11-20T10:00:00Z\n"
                                           "tests:\n"
                                           "  - name: merges itself\n"
                                           "    contact: &me { email: a@acme.example, <<: *me }\n"
                                           "    expect: { stage: lead }\n"
                                           "  - name: merges a list with a word in it\n"
                                           "    contact: { <<: [*me, acme] }\n"
                                           "    expect: { stage: lead }\n";
  const RuleTestReport loop = run_rule_tests(file, false);
  fs::remove_all(dir);
  CHECK(loop.diagnostics.format() == file + ":5:14: error: '<<' merges a mapping into itself\n" +
                                         "      contact: &me { email: a@acme.example, <<: *me }\n" +
                                         "               ^\n" + file +
                                         ":8:20: error: '<<' merges a mapping into the contact, such as <<: *ada, or "
                                         "a list of them, <<: [*ada, *acme]\n" +
                                         "      contact: { <<: [*me, acme] }\n" + "                     ^\n");
  CHECK(loop.not_run == 2);
}

TEST_CASE("rules test: scores to the written precision or a stated tolerance, times as instants, --verbose") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_test({"tests/data/rules/expect-test.yaml", false, true}, out, err) == 1);
  CHECK(err.str().empty());
  // 48.86 is within half a point of 48.7, which no longer passes; 09:00 at -05:00 is the 14:00Z due.
  CHECK_THAT(out.str(), Catch::Contains("  engagement: expected 48.7, got 48.86\n"));
  CHECK_THAT(out.str(), Catch::Contains("  fit: expected 78 \xC2\xB1 1, got 80\n"));
  CHECK_THAT(out.str(), Catch::Contains("due: expected 2026-11-20T10:00:00-05:00, got 2026-11-20T09:00:00-05:00 "
                                        "(2026-11-20T14:00:00Z)\n"));
  CHECK_THAT(out.str(), Catch::Contains("PASS tests/data/rules/expect-test.yaml:30: a due time in another offset is "
                                        "the same instant\n"));
  CHECK_THAT(out.str(), Catch::EndsWith("8 passed, 1 failed\n"));
  check_golden("expect-test.expected", out.str());

  // Without --verbose only the failure and the count, as before.
  std::ostringstream quiet, quiet_err;
  CHECK(run_test({"tests/data/rules/expect-test.yaml", false}, quiet, quiet_err) == 1);
  CHECK(quiet.str().rfind("FAIL tests/data/rules/expect-test.yaml:55: misses by a little\n", 0) == 0);
  CHECK(quiet.str().find("PASS") == std::string::npos);
  CHECK_THAT(quiet.str(), Catch::EndsWith("\n8 passed, 1 failed\n"));

  // A test that does not run is named as such.
  std::ostringstream bad, bad_err;
  CHECK(run_test({"tests/data/rules/bad-keys-test.yaml", false, true}, bad, bad_err) == 1);
  CHECK_THAT(bad.str(), Catch::StartsWith("PASS tests/data/rules/bad-keys-test.yaml:6: the base contact\n"));
  CHECK_THAT(bad.str(), Catch::Contains("NOT RUN tests/data/rules/bad-keys-test.yaml:20: a mistyped expectation (see "
                                        "the errors above)\n"));
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

TEST_CASE("rules test: a diamond of merges is read once, deep nesting is refused, and expect shapes are checked") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tandem-rule-shapes-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "shapes-test.yaml").string();
  // Each level's contact merges the level below twice: 2^40 walks at level 40 if a mapping merged
  // already were walked again; levels beyond 32 nest too deep.
  std::string tests = "  - name: level 0\n    contact: &a0 { email: a@acme.example, lifecyclestage: lead }\n"
                      "    expect: { stage: lead }\n";
  for (int i = 1; i <= 40; ++i)
    tests += "  - name: level " + std::to_string(i) + "\n    contact: &a" + std::to_string(i) + " { <<: [*a" +
             std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "] }\n    expect: { stage: lead }\n";
  tests +=
      "  - name: shapes\n"
      "    contact: { <<: *a0 }\n"
      "    expect: { sla: started, writes: [lifecyclestage], fit: 1e-2147483648 }\n"
      "  - name: values\n"
      "    contact: { <<: *a0 }\n"
      "    expect: { sla: { First touch on MQL: runing }, writes: { lifecyclestage: [a] } }\n";
  std::ofstream(file, std::ios::binary) << "rules: " << TANDEM_SOURCE_DIR
                                        << "/examples/rules/lead-rules.yaml\nat: 2026-11-20T10:00:00Z\ntests:\n"
                                        << tests;
  const RuleTestReport report = run_rule_tests(file, false);
  fs::remove_all(dir);
  const std::string diags = report.diagnostics.format();
  INFO(diags << report.output);
  CHECK(report.passed == 32);  // levels 0 to 31
  CHECK(report.failed == 0);
  CHECK(report.not_run == 11);  // levels 32 to 40, and the two with mistakes in expect
  CHECK(diags.find("merges nest more than 32 levels deep") != std::string::npos);
  CHECK(diags.find("'sla' maps SLA names to their states") != std::string::npos);
  CHECK(diags.find("'writes' maps properties to the values written") != std::string::npos);
  CHECK(diags.find("an expected score is a number") != std::string::npos);
  CHECK(diags.find("an SLA's state is started, running, met, overdue or escalated; did you mean 'running'?") !=
        std::string::npos);
  CHECK(diags.find("an expected write is one value") != std::string::npos);
}
