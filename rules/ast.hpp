#pragma once
// The rule file as written: conditions as expression trees, every element with its position in the
// file. Produced by rules/parser.cpp, checked by rules/checker.cpp, compiled by rules/compiler.cpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/time.hpp"

namespace tandem::rules {

struct Pos {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
};

enum class ExprKind : std::uint8_t {
  kNumber,    // number literal (value)
  kString,    // string literal (text)
  kDuration,  // duration literal, value in ms ("30d")
  kBool,      // true / false (value 1 or 0)
  kIdent,     // property or built-in name (text)
  kList,      // [a, b, c] (args)
  kNot,       // not a
  kAnd,       // a and b and ... (args)
  kOr,        // a or b or ... (args)
  kCompare,   // a <op> b
  kBetween,   // a between b and c (inclusive)
  kIn,        // a in [..] / a not in [..]
  kDomainIn,  // email a domain in [..] / domain not in [..] / domain == b: the domain or a subdomain of it
  kText,      // a contains [word] / starts with / ends with b; b a list for 'any of' (any item matches)
  kHas,       // multi-select a has b ("A;B;C" holds B)
  kMissing,   // a is missing / a is not missing
  kWithin,    // date a within duration b (in the past, up to now)
  kArith,     // a + b, a - b
};

enum class CmpOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
// kContainsWord: b appears as a whole word of a (not inside a longer word: "vp" is not in "MVP").
enum class TextOp : std::uint8_t { kContains, kStartsWith, kEndsWith, kContainsWord };

struct Expr {
  ExprKind kind = ExprKind::kBool;
  CmpOp cmp = CmpOp::kEq;
  TextOp text_op = TextOp::kContains;
  bool negated = false;  // not in, is not missing, not within
  char arith = '+';
  int offset = 0;  // of the node's first character in the expression text
  int length = 0;
  double value = 0;
  std::string text;
  std::vector<Expr> args;
  // Filled in by the checker: the node's type and, for comparisons, the domain compared in.
  // A string literal compared with a date is turned into a date literal (value = epoch ms).
  std::uint8_t type = 0;    // rules::Type
  std::uint8_t domain = 0;  // rules::Type of the comparison
};

// Value types of the condition language.
enum class Type : std::uint8_t { kUnknown, kNumber, kString, kBool, kDate, kDuration, kList };

// An expression as it appears in the file. `columns[i]` is the file position of character i of
// `text` (one extra entry for the end), so diagnostics point inside the YAML scalar.
struct Condition {
  std::string text;
  Expr expr;
  bool parsed = false;
  std::vector<Pos> positions;
  [[nodiscard]] Pos at(int offset) const {
    if (positions.empty()) return {};
    if (offset < 0) offset = 0;
    if (static_cast<std::size_t>(offset) >= positions.size()) offset = static_cast<int>(positions.size()) - 1;
    return positions[static_cast<std::size_t>(offset)];
  }
};

struct Located {
  std::string value;
  Pos pos;
};

enum class AssigneeKind : std::uint8_t { kDefault, kOwner, kManager, kNamed };
enum class HandoffMode : std::uint8_t { kManagerReview, kDirect };

struct TaskSpec {
  Pos pos;
  Located subject;
  Located body;
  std::string type = "TODO";        // CALL, EMAIL, TODO
  std::string priority = "MEDIUM";  // LOW, MEDIUM, HIGH
  std::optional<DurationSpec> due;
  AssigneeKind assign = AssigneeKind::kDefault;
  std::string named_owner;
};

struct FitRule {
  std::string name;
  Pos pos;
  Condition when;
  double points = 0;
};

struct FitModel {
  std::string name;
  Pos pos;
  std::optional<double> min, max;
  std::vector<FitRule> rules;
};

struct Signal {
  std::string name;
  Pos pos;
  Condition when;
  double points = 0;
  Located date_property;  // the signal's date, for decay and windows; empty: no decay
  std::optional<std::int64_t> half_life_ms;
  std::optional<std::int64_t> window_ms;
  Located per_property;  // points per unit of this numeric property ("2 points per page view")
  std::optional<double> max_points;
};

struct Engagement {
  bool present = false;
  Pos pos;
  std::optional<std::int64_t> half_life_ms;
  std::optional<double> max;
  std::vector<Signal> signals;
};

struct NotReadyRule {
  std::string name;
  Pos pos;
  Condition when;
  std::string reason;
};

struct DataCheck {
  std::string name;
  Pos pos;
  Condition must;  // must hold; a failure is reported
  std::string message;
};

struct DataQuality {
  std::vector<Located> required;
  std::vector<DataCheck> checks;
  std::optional<TaskSpec> task;
};

struct Transition {
  std::string name;
  Pos pos;
  Condition when;
  Located stage;
  std::string lead_status;
  std::optional<HandoffMode> handoff;
  std::optional<TaskSpec> task;
  bool ignore_not_ready = false;
};

struct ReturnRule {
  std::string name;
  Pos pos;
  Condition when;
  Located stage;
  std::string reason;
  std::optional<DurationSpec> cool_off;
  std::string lead_status;
};

struct SlaRule {
  std::string name;
  Pos pos;
  Located stage;  // "stage becomes X"
  DurationSpec within;
  Condition done_when;
  std::optional<TaskSpec> task;
  std::optional<DurationSpec> escalate_after;
  std::optional<TaskSpec> escalate_task;
};

struct Settings {
  BusinessCalendar calendar;
  std::string time_zone;  // as written; empty when the rules name none (UTC, or the account's zone in the pipeline)
  HandoffMode handoff = HandoffMode::kManagerReview;
  std::map<std::string, std::string> managers;  // owner id -> manager owner id
  std::string default_manager;
  std::string fit_score_property;         // where the first fit model's score is written, if set
  std::string engagement_score_property;  // idem for engagement
};

// The campaigns file beside the rules (campaigns.yaml): what marketing and sales agreed to reach
// with each campaign, and how a contact is counted for it.
struct BudgetLine {
  std::string item;
  double cost = 0;
  Pos pos;
};

// Targets agreed before the campaign; unset ones are not tracked.
struct CampaignTargets {
  std::optional<double> relevant_leads, mqls, sqls, opportunities, opportunity_value, won, won_value;
};

struct Campaign {
  std::string name;
  Pos pos;
  // The contact belongs to the campaign when `when` holds and its `date` property (createdate by
  // default) falls between start and end (whole days in the rules' time zone, end included).
  Condition when;
  Located date_property;
  std::optional<std::int64_t> start_day, end_day;  // local day numbers (days since 1970-01-01)
  std::vector<BudgetLine> budget;
  CampaignTargets targets;
  std::optional<double> win_rate;  // expected share of opportunities won, for the forecast
};

struct CampaignsAst {
  std::string file;  // empty when the rules have no campaigns file
  std::string version_label;
  std::string currency;  // "EUR", for people; amounts are plain numbers
  // Which attributed contacts are relevant leads ("fit the profile"); every attributed contact
  // when not given.
  std::optional<Condition> relevant;
  std::vector<Campaign> campaigns;
};

struct RulesetAst {
  std::string file;  // as given by the caller, used in diagnostics and explanations
  std::string version_label;
  Settings settings;
  std::vector<Located> stages;  // ordered; HubSpot's lifecycle stages when not given
  std::vector<FitModel> fit;
  Engagement engagement;
  std::vector<NotReadyRule> not_ready;
  DataQuality data_quality;
  std::vector<Transition> qualify;
  std::vector<ReturnRule> returns;
  std::vector<SlaRule> sla;
  CampaignsAst campaigns;
};

const std::vector<std::string>& default_stages();

}  // namespace tandem::rules
