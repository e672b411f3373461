#pragma once
// The condition language, e.g.
//   numberofemployees between 50 and 5000
//   fit >= 50 and engagement >= 40 and not not_ready
//   email ends with "@gmail.com" and company is missing
//   hs_lead_status in ["UNQUALIFIED", "BAD_TIMING"]
//   recent_conversion_date within 30d
//   hs_last_sales_activity_timestamp > started_at
// Text comparisons ignore ASCII case. Precedence: or < and < not < comparison < + -.

#include <string>
#include <string_view>
#include <vector>

#include "rules/ast.hpp"

namespace tandem::rules {

inline constexpr std::size_t kMaxExpressionLength = 4000;
inline constexpr int kMaxExpressionDepth = 48;
inline constexpr int kMaxExpressionNodes = 600;

struct ExpressionError {
  int offset = 0;  // into the expression text
  std::string message;
};

// Parses `text`; on failure returns false and sets `error` (the first problem only: one mistake in
// an expression usually causes the rest). Never throws; bounded in depth and size.
bool parse_expression(std::string_view text, Expr& out, ExpressionError& error);

// Writes the expression back in canonical form (used by explanations and by the checker to compare
// conditions structurally).
std::string to_source(const Expr& expr);

}  // namespace tandem::rules
