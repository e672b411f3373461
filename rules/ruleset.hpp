#pragma once
// The compiled, immutable ruleset. Property names are resolved to slots once; evaluation
// (rules/evaluator.hpp) reads slots by index. Share it as std::shared_ptr<const CompiledRuleset>:
// hot reload is a swap of that pointer, and evaluations in flight keep the old one alive.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/diagnostics.hpp"
#include "rules/ast.hpp"
#include "rules/checker.hpp"

namespace tandem::rules {

struct RulesetVersion {
  std::string hash;                             // sha256 of the rule file's bytes, lowercase hex
  std::string label;                            // the file's own `version:`
  [[nodiscard]] std::string to_string() const;  // "label (sha256:0123456789ab)"
};

enum class NodeKind : std::uint8_t {
  // operands
  kSlot,
  kNumber,
  kString,
  kDate,
  kDuration,
  kArith,
  // conditions
  kTrue,
  kFalse,
  kTruthy,
  kNot,
  kAnd,
  kOr,
  kCmpNumber,
  kCmpDate,
  kCmpString,
  kCmpBool,
  kCmpAuto,
  kBetweenNumber,
  kBetweenDate,
  kInString,
  kInNumber,
  kDomainIn,
  kText,
  kHas,
  kMissing,
  kWithin,
};

struct Node {
  NodeKind kind = NodeKind::kTrue;
  CmpOp cmp = CmpOp::kEq;
  TextOp text_op = TextOp::kContains;
  bool negated = false;
  char arith = '+';
  std::int32_t a = -1, b = -1, c = -1;  // child nodes
  std::int32_t first = 0, count = 0;    // children of and/or, values of in-lists (in `kids`)
  std::int32_t slot = -1;
  double number = 0;
  std::int64_t ms = 0;
  std::string text;            // literals; lower-cased for text comparisons (which ignore case)
  const Expr* expr = nullptr;  // source, for explanations
  const Condition* condition = nullptr;
};

// Where each built-in value lives among the slots.
struct BuiltinSlots {
  std::int32_t now = -1, not_ready = -1, data_ok = -1, engagement = -1, recycle_count = -1, in_cool_off = -1,
               started_at = -1;
  std::vector<std::int32_t> fit;  // per model
};

struct CompiledRuleset {
  RulesetAst ast;
  RulesetVersion version;
  std::string source;  // the rule file's text, for explanations

  // Slots: contact properties first (names[0..property_count)), then built-ins.
  std::vector<std::string> slot_names;
  std::size_t property_count = 0;
  std::vector<std::uint8_t> slot_needs;  // bit 1: number, bit 2: date
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::int32_t, NameHash, std::equal_to<>> slot_by_name;
  BuiltinSlots builtins;
  std::int32_t lifecycle_slot = -1, lead_status_slot = -1, owner_slot = -1;
  std::int32_t fit_score_slot = -1, engagement_score_slot = -1;

  std::vector<Node> nodes;
  std::vector<std::int32_t> kids;

  // Root node per rule (-1: no condition, always true), parallel to the AST's lists.
  std::vector<std::vector<std::int32_t>> fit_roots;
  std::vector<std::int32_t> signal_roots, signal_date_slots, signal_per_slots;
  std::vector<std::int32_t> required_slots, check_roots, not_ready_roots, return_roots, qualify_roots, sla_roots;
  std::vector<std::int32_t> return_stage, qualify_stage, sla_stage;  // stage indexes
  // The campaigns file's (ast.campaigns): per campaign its condition's root, the slot of its date
  // property and its period [start, end) in epoch ms; the relevant-lead condition (-1: all).
  std::vector<std::int32_t> campaign_roots, campaign_date_slots;
  std::vector<std::int64_t> campaign_start_ms, campaign_end_ms;
  std::int32_t relevant_root = -1;
  RulesetVersion campaigns_version;  // hash empty when there is no campaigns file

  // The slot of a contact property the rules read, or -1.
  [[nodiscard]] std::int32_t slot_of(std::string_view property) const {
    auto it = slot_by_name.find(property);  // heterogeneous: no string is built per lookup
    return it == slot_by_name.end() ? -1 : it->second;
  }
  [[nodiscard]] std::int32_t stage_index(std::string_view stage) const;
  // Contact properties the rules read (for batch reads and webhook subscriptions).
  [[nodiscard]] std::vector<std::string> properties() const {
    return {slot_names.begin(), slot_names.begin() + static_cast<std::ptrdiff_t>(property_count)};
  }
};

using RulesetPtr = std::shared_ptr<const CompiledRuleset>;

struct LoadResult {
  RulesetPtr ruleset;  // null when there are errors
  Diagnostics diagnostics;
};

// The campaigns file's name and text, compiled with the rules it sits beside.
struct CampaignsSource {
  std::string file;
  std::string text;
};

// Parses, checks and compiles rule file text (and the campaigns file's, when given). `file` names
// it in diagnostics and explanations.
LoadResult compile_ruleset(const std::string& file, std::string_view text, const PropertyCatalog* catalog = nullptr,
                           const CampaignsSource* campaigns = nullptr);
// Reads the file (or the only *.yaml/*.yml rule file directly inside a directory) and compiles it,
// with the campaigns file beside it (campaigns.yaml) when there is one.
LoadResult load_ruleset(const std::string& path, const PropertyCatalog* catalog = nullptr);
// The rule files a path names: the file itself, or the *.yaml/*.yml files directly in a directory
// (sorted), excluding test files and the campaigns file.
std::vector<std::string> rule_files(const std::string& path, std::string& error);
// The funnel a campaign's targets count: HubSpot's lifecycle stages, as far as the rules have them
// (a target of MQLs counts contacts at marketingqualifiedlead or beyond).
struct FunnelStage {
  std::int32_t stage;  // index in ast.stages
  const char* name;    // "marketingqualifiedlead"
  const char* title;   // "MQLs"
  const char* unit;    // "MQL": what a cost is per
  std::optional<double> CampaignTargets::*target;
};
std::vector<FunnelStage> funnel_stages(const CompiledRuleset& rs);

// campaigns.yaml (or .yml) in the rule file's directory, if there is one.
std::optional<std::string> campaigns_file_beside(const std::string& rule_file);
bool is_campaigns_file(const std::string& path);
bool read_file(const std::string& path, std::string& out);

}  // namespace tandem::rules
