#include <catch2/catch.hpp>

#include "golden.hpp"
#include "rules/ruleset.hpp"

using namespace tandem::rules;
using namespace tandem::rules::testing;

namespace {
PropertyCatalog catalog() {
  std::string error;
  auto c = PropertyCatalog::from_json(read_text(data_path("properties.json")), error);
  REQUIRE(c);
  return *c;
}

std::string diagnostics_for(const std::string& text, const PropertyCatalog* props = nullptr) {
  return compile_ruleset("rules.yaml", text, props).diagnostics.format();
}
}  // namespace

TEST_CASE("every problem in a rule file is reported at once, in file order, with a caret") {
  const PropertyCatalog props = catalog();
  LoadResult r = compile_ruleset("errors.yaml", read_text(data_path("errors.yaml")), &props);
  CHECK_FALSE(r.ruleset);
  CHECK(r.diagnostics.error_count() == 16);
  CHECK(r.diagnostics.warning_count() == 5);
  check_golden("errors.expected", r.diagnostics.format());
}

TEST_CASE("the example rules are clean against the property list's names they share") {
  LoadResult r =
      compile_ruleset("lead-rules.yaml", read_text(std::string(TANDEM_SOURCE_DIR) + "/examples/rules/lead-rules.yaml"));
  INFO(r.diagnostics.format());
  REQUIRE(r.ruleset);
  CHECK(r.diagnostics.empty());
  CHECK(r.ruleset->version.label == "2026.11-2");
  CHECK(r.ruleset->version.hash.size() == 64);
}

TEST_CASE("without a property list, near-misses of built-in names are warnings") {
  const std::string out = diagnostics_for(
      "fit:\n  - name: a\n    when: x > 1\n    points: 1\nqualify:\n  - name: q\n    when: fitt >= 50\n    stage: "
      "lead\n");
  CHECK(out ==
        "rules.yaml:7:11: warning: 'fitt' is read as a contact property; did you mean 'fit'?\n"
        "      when: fitt >= 50\n"
        "            ^\n");
}

TEST_CASE("built-ins are only usable where they have a value") {
  const std::string out = diagnostics_for("fit:\n  - name: a\n    when: engagement > 1\n    points: 1\n");
  CHECK(
      out.find(
          "rules.yaml:3:11: error: 'engagement' can only be used in not_ready, qualify and return_to_nurture rules") ==
      0);
}

TEST_CASE("carets land inside quoted and folded conditions") {
  const std::string text =
      "not_ready:\n"
      "  - name: q\n"
      "    when: \"jobtitle contains 'x' and\"\n"
      "  - name: folded\n"
      "    when: >\n"
      "      jobtitle contains \"a\" and\n"
      "      country ==\n";
  const std::string out = diagnostics_for(text);
  CHECK(out.find("rules.yaml:3:37: error: the condition ends too early") != std::string::npos);
  CHECK(out.find("rules.yaml:7:17: error: the condition ends too early") != std::string::npos);
}

TEST_CASE("structural mistakes are reported with their position") {
  CHECK(diagnostics_for("") == "rules.yaml:1:1: error: the rule file is empty\n");
  CHECK(diagnostics_for("- a\n- b\n").find("rules.yaml:1:1: error: a rule file is a mapping") == 0);
  CHECK(diagnostics_for("fit: [").find("rules.yaml:1:") == 0);
  CHECK(diagnostics_for("qualify:\n  - when: x == 1\n").find("rules.yaml:2:5: error: a qualify rule needs 'stage'") ==
        0);
  std::string deep(200, '[');
  CHECK(diagnostics_for("fit: " + deep).find("nests brackets more than") != std::string::npos);
}

TEST_CASE("contradictions and overlaps are warnings, disjoint rules are not") {
  const std::string text =
      "qualify:\n"
      "  - name: small\n"
      "    when: numberofemployees < 50 and fit >= 10\n"
      "    stage: marketingqualifiedlead\n"
      "  - name: large\n"
      "    when: numberofemployees >= 50 and fit >= 10\n"
      "    stage: marketingqualifiedlead\n"
      "  - name: A\n"
      "    when: industry == \"RETAIL\"\n"
      "    stage: salesqualifiedlead\n"
      "  - name: B\n"
      "    when: industry == \"BANKING\"\n"
      "    stage: salesqualifiedlead\n"
      "  - name: C\n"
      "    when: industry == \"RETAIL\" and not (industry == \"RETAIL\")\n"
      "    stage: opportunity\n"
      "fit:\n  - name: f\n    when: x > 1\n    points: 1\n";
  const std::string out = diagnostics_for(text);
  CHECK(out.find("overlap") == std::string::npos);
  CHECK(out.find("both move contacts") == std::string::npos);
  CHECK(out.find(
            "rules.yaml:14:5: warning: the qualify rule 'C' can never apply: its conditions contradict each other") ==
        0);
}

TEST_CASE("a qualify rule that implies one alternative of a not-ready rule is reported as dead") {
  const std::string text =
      "not_ready:\n"
      "  - name: Student\n"
      "    when: jobtitle contains \"student\" or jobtitle contains \"intern\"\n"
      "qualify:\n"
      "  - name: Interns with demos\n"
      "    when: jobtitle contains \"intern\" and engagement >= 10\n"
      "    stage: salesqualifiedlead\n"
      "  - name: Anyone engaged\n"
      "    when: engagement >= 10\n"
      "    stage: marketingqualifiedlead\n";
  const std::string out = diagnostics_for(text);
  CHECK(
      out.find("rules.yaml:5:5: warning: the qualify rule 'Interns with demos' can never apply: whenever it holds, the "
               "not_ready rule 'Student' (rules.yaml:2) holds too") == 0);
  CHECK(out.find("Anyone engaged") == std::string::npos);
}
