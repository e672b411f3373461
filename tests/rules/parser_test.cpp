// The rule-file parser's key walking (the common walker of common/config.hpp) and its booleans.

#include <catch2/catch.hpp>

#include "rules/parser.hpp"

using namespace tandem;
using namespace tandem::rules;

namespace {
std::string diagnostics_for(const std::string& text) {
  Diagnostics d;
  parse_rule_file("rules.yaml", text, d);
  return d.format();
}

const std::string kQualify = "qualify:\n  - name: MQL\n    when: fit >= 50\n    stage: marketingqualifiedlead\n";
}  // namespace

TEST_CASE("an unknown key in a nested rule is reported with its position and a did-you-mean") {
  CHECK(diagnostics_for(kQualify + "    ignore_not_redy: true\n") ==
        "rules.yaml:5:5: error: unknown key 'ignore_not_redy' in a qualify rule; did you mean 'ignore_not_ready'?\n"
        "      ignore_not_redy: true\n"
        "      ^\n");
  CHECK_THAT(
      diagnostics_for(kQualify + "    colour: red\n"),
      Catch::StartsWith("rules.yaml:5:5: error: unknown key 'colour' in a qualify rule (known keys: name when stage "
                        "lead_status handoff task ignore_not_ready)"));
}

TEST_CASE("a key given twice in a rule file is an error at the second one") {
  CHECK_THAT(diagnostics_for(kQualify + "    stage: lead\n"),
             Catch::StartsWith("rules.yaml:5:5: error: 'stage' is given twice in a qualify rule\n"));
}

TEST_CASE("rule-file booleans are true or false only") {
  Diagnostics ok;
  auto ast = parse_rule_file("rules.yaml", kQualify + "    ignore_not_ready: true\n", ok);
  CHECK(ok.empty());
  REQUIRE(ast.qualify.size() == 1);
  CHECK(ast.qualify[0].ignore_not_ready);
  for (const char* spelling : {"yes", "no", "on", "True"}) {
    INFO(spelling);
    CHECK(diagnostics_for(kQualify + "    ignore_not_ready: " + spelling + "\n") ==
          std::string("rules.yaml:5:23: error: ignore_not_ready must be true or false, not '") + spelling + "'\n" +
              "      ignore_not_ready: " + spelling + "\n" + "                        ^\n");
  }
}

TEST_CASE("settings time_zone takes a tz database name and points at a misspelt one") {
  Diagnostics ok;
  auto ast = parse_rule_file("rules.yaml", "settings:\n  time_zone: America/New_York\n" + kQualify, ok);
  CHECK(ok.empty());
  CHECK(ast.settings.time_zone == "America/New_York");
  CHECK(ast.settings.calendar.zone.named());
  CHECK_THAT(diagnostics_for("settings:\n  time_zone: Europe/Berln\n" + kQualify),
             Catch::StartsWith("rules.yaml:2:14: error: time_zone: 'Europe/Berln' is not a time zone: give a name "
                               "from the tz database"));
}
