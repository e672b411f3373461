#include <catch2/catch.hpp>

#include "rules/expression.hpp"

using namespace tandem::rules;

namespace {
std::string round_trip(const std::string& text) {
  Expr e;
  ExpressionError err;
  if (!parse_expression(text, e, err)) return "error at " + std::to_string(err.offset) + ": " + err.message;
  return to_source(e);
}
}  // namespace

TEST_CASE("conditions parse with the documented precedence") {
  CHECK(round_trip("fit >= 50 and engagement >= 40 and not not_ready") ==
        "fit >= 50 and engagement >= 40 and not not_ready");
  CHECK(round_trip("a == 1 or b == 2 and c == 3") == "a == 1 or (b == 2 and c == 3)");
  CHECK(round_trip("(a == 1 or b == 2) and c == 3") == "(a == 1 or b == 2) and c == 3");
  CHECK(round_trip("numberofemployees between 50 and 5000") == "numberofemployees between 50 and 5000");
  CHECK(round_trip("email ends with '@gmail.com'") == "email ends with \"@gmail.com\"");
  CHECK(round_trip("jobtitle starts with \"VP\"") == "jobtitle starts with \"VP\"");
  CHECK(round_trip("x is missing") == "x is missing");
  CHECK(round_trip("x is not missing") == "x is present");
  CHECK(round_trip("x is present") == "x is present");
  CHECK(round_trip("x not in [\"A\", \"B\"]") == "x not in [\"A\", \"B\"]");
  CHECK(round_trip("recent_conversion_date within 30d") == "recent_conversion_date within 30d");
  CHECK(round_trip("d > now - 12h") == "d > now - 12h");
  CHECK(round_trip("tags has \"SaaS\"") == "tags has \"SaaS\"");
  CHECK(round_trip("x = 3") == "x == 3");
  CHECK(round_trip("revenue >= 5_000_000") == "revenue >= 5000000");
  CHECK(round_trip("score > -5") == "score > -5");
  CHECK(round_trip("jobtitle contains any of ['vp', 'head']") == "jobtitle contains any of [\"vp\", \"head\"]");
  CHECK(round_trip("email ends with any of [\"@gmail.com\"]") == "email ends with any of [\"@gmail.com\"]");
  CHECK(round_trip("jobtitle starts with any of [\"VP\"]") == "jobtitle starts with any of [\"VP\"]");
  CHECK(round_trip("jobtitle contains word \"vp\"") == "jobtitle contains word \"vp\"");
  CHECK(round_trip("jobtitle contains any word of [\"vp\", \"cto\"]") == "jobtitle contains any word of [\"vp\", \"cto\"]");
  CHECK(round_trip("email domain in [\"gmail.com\"]") == "email domain in [\"gmail.com\"]");
  CHECK(round_trip("email domain not in [\"gmail.com\"]") == "email domain not in [\"gmail.com\"]");
  CHECK(round_trip("email domain == \"gmail.com\"") == "email domain in [\"gmail.com\"]");
  CHECK(round_trip("domain == \"x.com\"") == "domain == \"x.com\"");
  // One duration syntax: "14d" and "14 days" (as in within:, due: and cool_off:).
  CHECK(round_trip("d within 14 days") == round_trip("d within 14d"));
  CHECK(round_trip("d within 1 day") == round_trip("d within 1d"));
  CHECK(round_trip("d > now - 12 hours") == round_trip("d > now - 12h"));
  CHECK(round_trip("d within 2 weeks") == round_trip("d within 2w"));
  CHECK(round_trip("d within 90 minutes") == round_trip("d within 90m"));
  CHECK(round_trip("n > 5 and days > 3") == "n > 5 and days > 3");
  // "... or missing" after a comparison: the comparison, or its property is missing.
  CHECK(round_trip("numberofemployees > 10 or missing") == "numberofemployees > 10 or numberofemployees is missing");
  CHECK(round_trip("a == 1 or n > 10 or is missing") == "a == 1 or n > 10 or n is missing");
  CHECK(round_trip("(n > 10 or missing) and fit >= 50") == "(n > 10 or n is missing) and fit >= 50");
  CHECK(round_trip("a == 1 and n > 10 or missing") ==
        "error at 21: 'or missing' follows a comparison on one property, e.g. numberofemployees > 10 or missing; "
        "otherwise write it out: (... or numberofemployees is missing)");
  // A property named `word` or `any` is still a property.
  CHECK(round_trip("jobtitle contains word") == "jobtitle contains word");
  CHECK(round_trip("jobtitle contains any") == "jobtitle contains any");
}

TEST_CASE("syntax errors point at the offending token") {
  CHECK(round_trip("jobtitle contains any of \"vp\"") == "error at 25: expected a list after 'any of', e.g. [\"vp\", \"head of\"]");
  CHECK(round_trip("jobtitle contains") == "error at 17: the condition ends too early: a value or property is missing");
  CHECK(round_trip("a == 1 b == 2") ==
        "error at 7: unexpected 'b' (conditions are joined with 'and' / 'or'; text values need double quotes)");
  CHECK(round_trip("x == \"open") == "error at 5: this text value has no closing quote");
  CHECK(round_trip("x between 1 or 2") ==
        "error at 12: expected 'and' between the two bounds of 'between', found 'or'");
  CHECK(round_trip("x is \"A\"") ==
        "error at 5: use '==' to compare values; 'is' only goes with 'missing' or 'present'");
  CHECK(round_trip("d within 3 parsecs") ==
        "error at 11: unexpected 'parsecs' (conditions are joined with 'and' / 'or'; text values need double quotes)");
  CHECK(round_trip("d within 3y") ==
        "error at 10: unknown duration unit 'y' (use m, h, d or w, or minutes, hours, days, weeks: 30d or 30 days)");
  CHECK(round_trip("x in \"A\"") == "error at 5: expected a list after 'in', e.g. [\"A\", \"B\"]");
  CHECK(round_trip("x ~ 1") == "error at 2: unexpected character '~'");
  CHECK(round_trip("") == "error at 0: the condition is empty");
  CHECK(round_trip("(a == 1") == "error at 7: expected ')' to close the '(' here");
}

TEST_CASE("deep or huge conditions are refused with a limit error, not a stack overflow") {
  const std::string deep = std::string(100, '(') + "x";
  Expr e;
  ExpressionError err;
  REQUIRE_FALSE(parse_expression(deep, e, err));
  CHECK(err.message.find("nested too deeply") != std::string::npos);

  std::string nots;
  for (int i = 0; i < 200; ++i) nots += "not ";
  REQUIRE_FALSE(parse_expression(nots + "x", e, err));
  CHECK(err.message.find("nested too deeply") != std::string::npos);

  std::string wide = "a == 1";
  for (int i = 0; i < 400; ++i) wide += " or a == 1";
  REQUIRE_FALSE(parse_expression(wide, e, err));
  CHECK(err.message.find("limit") != std::string::npos);

  REQUIRE_FALSE(parse_expression(std::string(3000, '('), e, err));
  CHECK(err.message.find("too large") != std::string::npos);

  REQUIRE_FALSE(parse_expression(std::string(5000, 'a'), e, err));
  CHECK(err.message.find("too long") != std::string::npos);
}
