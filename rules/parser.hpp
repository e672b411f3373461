#pragma once
// Rule file (YAML) -> RulesetAst. Strict: unknown keys, wrong shapes and malformed conditions are
// reported as diagnostics with file:line:col, all of them, never only the first. Any bytes give
// diagnostics or an AST, never a crash or a hang: input size, YAML nesting and node counts are
// bounded before and during the walk.

#include <string>
#include <string_view>

#include "common/diagnostics.hpp"
#include "rules/ast.hpp"

namespace tandem::rules {

inline constexpr std::size_t kMaxRuleFileBytes = 2 * 1024 * 1024;
inline constexpr int kMaxYamlNesting = 64;
inline constexpr int kMaxYamlNodes = 200'000;

// `file` is the name used in diagnostics. Appends to `diagnostics`; the returned AST is partial
// when errors were reported and must then not be compiled.
RulesetAst parse_rule_file(const std::string& file, std::string_view text, Diagnostics& diagnostics);

// The campaigns file beside the rules (campaigns.yaml), as strictly.
CampaignsAst parse_campaigns_file(const std::string& file, std::string_view text, Diagnostics& diagnostics);

// Helpers shared with the rule-test reader.
namespace detail {
// 1-based line and column of byte `offset` in `text`.
Pos position_of(std::string_view text, std::size_t offset);
}  // namespace detail

}  // namespace tandem::rules
