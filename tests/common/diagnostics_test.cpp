#include <catch2/catch.hpp>

#include "common/diagnostics.hpp"

using namespace tandem;

TEST_CASE("a diagnostic prints position, source line and a caret") {
  Diagnostics d;
  d.error("rules.yaml", 3, 11, "unknown property 'numberofemployes'; did you mean 'numberofemployees'?",
          "    when: numberofemployes > 50");
  d.warning("rules.yaml", 9, 0, "rule 'x' can never apply");
  CHECK(d.format() ==
        "rules.yaml:3:11: error: unknown property 'numberofemployes'; did you mean 'numberofemployees'?\n"
        "      when: numberofemployes > 50\n"
        "            ^\n"
        "rules.yaml:9: warning: rule 'x' can never apply\n");
  CHECK(d.error_count() == 1);
  CHECK(d.warning_count() == 1);
}

TEST_CASE("did-you-mean suggests only plausible typos") {
  std::vector<std::string> keys = {"listen", "public_url", "body_limit"};
  CHECK(nearest_match("lisen", keys) == "listen");
  CHECK(nearest_match("body_limt", keys) == "body_limit");
  CHECK(nearest_match("database", keys).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("source lines are found by number") {
  CHECK(source_line_of("a\nb\r\nc", 2) == "b");
  CHECK(source_line_of("a\nb\nc", 3) == "c");
  CHECK(source_line_of("a", 5).empty());
}

TEST_CASE("report closes the list with the one error-count line every command prints") {
  Diagnostics d;
  d.error("tandem.yaml", 2, 3, "server.lisen: unknown key");
  d.warning("tandem.yaml", 4, 0, "not an error");
  d.error("environment", 0, 0, "TANDEM_X: unknown key");
  CHECK(d.report("the configuration") == d.format() + "2 error(s) in the configuration\n");
}
