// The `tandem rules` tools end to end, on files, with golden output.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <sstream>

#include "golden.hpp"
#include "rules/time.hpp"
#include "rules/tools.hpp"

using namespace tandem::rules;
using namespace tandem::rules::testing;

namespace {
// Paths in the output are relative to the repository root, as a marketer would type them.
struct InSourceDir {
  InSourceDir() { REQUIRE(::chdir(TANDEM_SOURCE_DIR) == 0); }
};
const std::int64_t kNow = *parse_date_ms("2026-11-20T10:00:00Z");
}  // namespace

TEST_CASE("rules check: clean rules exit 0, mistakes exit 1 with every diagnostic, bad paths exit 2") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_check({{"examples/rules"}, "tests/data/rules/properties.json"}, out, err) == 1);
  // The example reads custom properties that the test property list does not have: reported as such.
  CHECK(out.str().find("error: unknown property 'tech_stack'") == std::string::npos);
  CHECK(out.str().find("error: unknown property 'tandem_return_reason' (not in the property list)") !=
        std::string::npos);

  std::ostringstream out2, err2;
  CHECK(run_check({{"examples/rules"}, ""}, out2, err2) == 0);
  check_golden("check-examples.expected", out2.str());

  std::ostringstream out3, err3;
  CHECK(run_check({{"tests/data/rules/errors.yaml"}, "tests/data/rules/properties.json"}, out3, err3) == 1);
  CHECK(out3.str().find("16 errors, 5 warnings\n") != std::string::npos);

  std::ostringstream out4, err4;
  CHECK(run_check({{"no/such/rules.yaml"}, ""}, out4, err4) == 2);
  CHECK(err4.str() == "no/such/rules.yaml: no such file or directory\n");
  std::ostringstream out5, err5;
  CHECK(run_check({{"examples/rules"}, "no/such/properties.json"}, out5, err5) == 2);
}

TEST_CASE("rules test: the example tests pass, and failures show expected vs actual and the explanation") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_test({"examples/rules", false}, out, err) == 0);
  CHECK(err.str().empty());
  CHECK(out.str() == "20 passed, 0 failed\n");

  std::ostringstream out2, err2;
  CHECK(run_test({"tests/data/rules/failing-test.yaml", false}, out2, err2) == 1);
  check_golden("failing-test.expected", out2.str());

  std::ostringstream out3, err3;
  CHECK(run_test({"examples/rules", true}, out3, err3) == 0);
  CHECK(out3.str().find("Coverage of examples/rules/lead-rules.yaml: ") == 0);
  CHECK(out3.str().find("tech_stack has \"BigQuery\" (never true)") != std::string::npos);
}

TEST_CASE("rules explain: words for a sales rep, JSON for machines") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_explain({"examples/rules", "examples/rules/contacts/ada.json", "", "2026-11-20T10:00:00Z", false}, kNow,
                    out, err) == 0);
  check_golden("explain-ada.expected", out.str());

  std::ostringstream out2, err2;
  CHECK(run_explain({"examples/rules", "examples/rules/contacts/ada.json", "", "2026-11-20T10:00:00Z", true}, kNow,
                    out2, err2) == 0);
  check_golden("explain-ada.json", out2.str());

  std::ostringstream out3, err3;
  CHECK(run_explain({"examples/rules", "examples/rules/contacts/ada.json", "", "yesterday", false}, kNow, out3, err3) ==
        2);
  CHECK(err3.str() == "--at: 'yesterday' is not a date such as 2026-11-20T10:00:00Z\n");
  std::ostringstream out4, err4;
  CHECK(run_explain({"tests/data/rules/errors.yaml", "examples/rules/contacts/ada.json", "", "", false}, kNow, out4,
                    err4) == 1);
}

TEST_CASE("rules simulate: stage and task counts, and what changes against a baseline") {
  InSourceDir here;
  std::ostringstream out, err;
  CHECK(run_simulate({"examples/rules/lead-rules.yaml", "tests/data/rules/contacts.jsonl",
                      "tests/data/rules/baseline-rules.yaml", "2026-11-20T10:00:00Z", false},
                     kNow, out, err) == 0);
  CHECK(err.str().empty());  // no progress bar unless asked
  check_golden("simulate-baseline.expected", out.str());

  std::ostringstream out2, err2;
  CHECK(run_simulate(
            {"examples/rules/lead-rules.yaml", "tests/data/rules/contacts.csv", "", "2026-11-20T10:00:00Z", false},
            kNow, out2, err2) == 0);
  check_golden("simulate-csv.expected", out2.str());

  std::ostringstream out3, err3;
  CHECK(run_simulate({"examples/rules/lead-rules.yaml", "no/such.jsonl", "", "", false}, kNow, out3, err3) == 2);
}
