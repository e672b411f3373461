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

TEST_CASE("columns and carets count characters and the output is valid UTF-8") {
  // "é" and "’" are two and three bytes: byte column 28 is the 'x' after them, character 25.
  const std::string line = "    when: jobtitle == \xC3\xA9\xE2\x80\x99x";
  Diagnostics d;
  d.error("rules.yaml", 4, 28, "unexpected 'x'", line);
  CHECK(d.format() ==
        "rules.yaml:4:25: error: unexpected 'x'\n"
        "      when: jobtitle == \xC3\xA9\xE2\x80\x99x\n"
        "  " + std::string(24, ' ') + "^\n");
  CHECK(character_column(line, 28) == 25);
  CHECK(character_column(line, 1) == 1);
  // Just past the end of the line stays just past its last character.
  CHECK(character_column("ab\xC3\xA9", 5) == 4);

  // A Latin-1 file read as UTF-8: its stray bytes become U+FFFD, one character each.
  Diagnostics latin1;
  latin1.error("rules.yaml", 1, 9, "unknown property 'soci\xE9t\xE9'", "when: soci\xE9t\xE9 == 1");
  const std::string out = latin1.format();
  CHECK(out == "rules.yaml:1:9: error: unknown property 'soci\xEF\xBF\xBDt\xEF\xBF\xBD'\n"
               "  when: soci\xEF\xBF\xBDt\xEF\xBF\xBD == 1\n"
               "          ^\n");
  CHECK(valid_utf8("ok \xF0\x9F\x98\x80") == "ok \xF0\x9F\x98\x80");        // a 4-byte character kept
  CHECK(valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");              // overlong '/' refused
  CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate refused
  CHECK(valid_utf8("cut \xE2\x80") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");      // truncated at the end
}
