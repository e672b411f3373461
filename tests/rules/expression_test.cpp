#include <catch2/catch.hpp>

#include "rules/expression.hpp"

using namespace tandem::rules;

TEST_CASE("expressions parse and print back in canonical form") {
  Expr e;
  ExpressionError err;
  REQUIRE(parse_expression("fit >= 50 and engagement >= 40 and not not_ready", e, err));
  CHECK(to_source(e) == "fit >= 50 and engagement >= 40 and not not_ready");
}
