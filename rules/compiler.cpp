// AST -> slots and a flat node array (rules/ruleset.hpp).

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/crypto.hpp"
#include "common/file.hpp"
#include "rules/parser.hpp"
#include "rules/ruleset.hpp"

namespace tandem::rules {

std::string RulesetVersion::to_string() const {
  std::string out = label.empty() ? "unlabelled" : label;
  return out + " (sha256:" + hash.substr(0, 12) + ")";
}

std::int32_t CompiledRuleset::stage_index(std::string_view stage) const {
  for (std::size_t i = 0; i < ast.stages.size(); ++i)
    if (ast.stages[i].value == stage) return static_cast<std::int32_t>(i);
  return -1;
}

namespace {

constexpr std::uint8_t kNeedNumber = 1, kNeedDate = 2;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class RulesetCompiler {
 public:
  explicit RulesetCompiler(CompiledRuleset& rs) : rs_(rs) {}

  void run() {
    const RulesetAst& ast = rs_.ast;
    // Properties every decision reads, whether or not a condition names them.
    rs_.lifecycle_slot = property("lifecyclestage");
    rs_.lead_status_slot = property("hs_lead_status");
    rs_.owner_slot = property("hubspot_owner_id");
    if (!ast.settings.fit_score_property.empty()) rs_.fit_score_slot = property(ast.settings.fit_score_property);
    if (!ast.settings.engagement_score_property.empty())
      rs_.engagement_score_slot = property(ast.settings.engagement_score_property);
    for (const auto& r : ast.data_quality.required) rs_.required_slots.push_back(property(r.value));
    for (const auto& s : ast.engagement.signals) {
      rs_.signal_date_slots.push_back(s.date_property.value.empty() ? -1 : property(s.date_property.value, kNeedDate));
      rs_.signal_per_slots.push_back(s.per_property.value.empty() ? -1 : property(s.per_property.value, kNeedNumber));
    }
    for (const auto& c : ast.campaigns.campaigns) {
      rs_.campaign_date_slots.push_back(property(c.date_property.value, kNeedDate));
      // Whole local days of the rules' zone: from the start day's midnight to the end day's end.
      const TimeZone& zone = ast.settings.calendar.zone;
      rs_.campaign_start_ms.push_back(c.start_day ? zone.to_utc(*c.start_day * kMsPerDay)
                                                  : std::numeric_limits<std::int64_t>::min());
      rs_.campaign_end_ms.push_back(c.end_day ? zone.to_utc((*c.end_day + 1) * kMsPerDay)
                                              : std::numeric_limits<std::int64_t>::max());
    }
    // Collect all other property names first so that property slots come before built-ins.
    auto visit_all = [&](auto&& fn) {
      for (const auto& m : ast.fit)
        for (const auto& r : m.rules) fn(r.when);
      for (const auto& s : ast.engagement.signals) fn(s.when);
      for (const auto& c : ast.data_quality.checks) fn(c.must);
      for (const auto& r : ast.not_ready) fn(r.when);
      for (const auto& r : ast.returns) fn(r.when);
      for (const auto& t : ast.qualify) fn(t.when);
      for (const auto& s : ast.sla) fn(s.done_when);
      for (const auto& c : ast.campaigns.campaigns) fn(c.when);
      if (ast.campaigns.relevant) fn(*ast.campaigns.relevant);
    };
    visit_all([&](const Condition& c) {
      if (c.parsed) collect(c.expr);
    });
    rs_.property_count = rs_.slot_names.size();
    rs_.builtins.now = builtin("now");
    rs_.builtins.not_ready = builtin("not_ready");
    rs_.builtins.data_ok = builtin("data_ok");
    rs_.builtins.engagement = builtin("engagement");
    rs_.builtins.recycle_count = builtin("recycle_count");
    rs_.builtins.in_cool_off = builtin("in_cool_off");
    rs_.builtins.started_at = builtin("started_at");
    for (const auto& m : ast.fit) rs_.builtins.fit.push_back(builtin(m.name));

    for (const auto& m : ast.fit) {
      rs_.fit_roots.emplace_back();
      for (const auto& r : m.rules) rs_.fit_roots.back().push_back(root(r.when));
    }
    for (const auto& s : ast.engagement.signals) rs_.signal_roots.push_back(root(s.when));
    for (const auto& c : ast.data_quality.checks) rs_.check_roots.push_back(root(c.must));
    for (const auto& r : ast.not_ready) rs_.not_ready_roots.push_back(root(r.when));
    for (const auto& r : ast.returns) {
      rs_.return_roots.push_back(root(r.when));
      rs_.return_stage.push_back(rs_.stage_index(r.stage.value));
    }
    for (const auto& t : ast.qualify) {
      rs_.qualify_roots.push_back(root(t.when));
      rs_.qualify_stage.push_back(rs_.stage_index(t.stage.value));
    }
    for (const auto& s : ast.sla) {
      rs_.sla_roots.push_back(root(s.done_when));
      rs_.sla_stage.push_back(rs_.stage_index(s.stage.value));
    }
    for (const auto& c : ast.campaigns.campaigns) rs_.campaign_roots.push_back(root(c.when));
    if (ast.campaigns.relevant) rs_.relevant_root = root(*ast.campaigns.relevant);
  }

 private:
  bool is_builtin(const std::string& name) const {
    static const char* names[] = {"now",           "not_ready",   "data_ok",   "engagement",
                                  "recycle_count", "in_cool_off", "started_at"};
    for (auto n : names)
      if (name == n) return true;
    for (const auto& m : rs_.ast.fit)
      if (m.name == name) return true;
    return false;
  }

  std::int32_t property(const std::string& name, std::uint8_t needs = 0) {
    auto it = rs_.slot_by_name.find(name);
    if (it != rs_.slot_by_name.end()) {
      rs_.slot_needs[static_cast<std::size_t>(it->second)] |= needs;
      return it->second;
    }
    const auto slot = static_cast<std::int32_t>(rs_.slot_names.size());
    rs_.slot_names.push_back(name);
    rs_.slot_needs.push_back(needs);
    rs_.slot_by_name.emplace(name, slot);
    return slot;
  }

  std::int32_t builtin(const std::string& name) {
    // Built-ins get their own slots, outside the name map (a property of the same name is shadowed).
    const auto slot = static_cast<std::int32_t>(rs_.slot_names.size());
    rs_.slot_names.push_back(name);
    rs_.slot_needs.push_back(0);
    builtin_by_name_[name] = slot;
    return slot;
  }

  void collect(const Expr& e) {
    if (e.kind == ExprKind::kIdent && !is_builtin(e.text)) property(e.text);
    for (const auto& a : e.args) collect(a);
  }

  std::int32_t slot(const std::string& name, std::uint8_t needs) {
    auto b = builtin_by_name_.find(name);
    if (b != builtin_by_name_.end()) return b->second;
    return property(name, needs);
  }

  std::int32_t root(const Condition& c) {
    if (!c.parsed) return -1;
    cond_ = &c;
    return condition(c.expr);
  }

  std::int32_t add(Node n, const Expr& e) {
    n.expr = &e;
    n.condition = cond_;
    rs_.nodes.push_back(std::move(n));
    return static_cast<std::int32_t>(rs_.nodes.size() - 1);
  }

  std::int32_t operand(const Expr& e, Type domain) {
    Node n;
    const std::uint8_t needs = domain == Type::kNumber || domain == Type::kBool ? kNeedNumber
                               : domain == Type::kDate                          ? kNeedDate
                               : domain == Type::kUnknown                       ? kNeedNumber | kNeedDate
                                                                                : 0;
    switch (e.kind) {
      case ExprKind::kIdent:
        n.kind = NodeKind::kSlot;
        n.slot = slot(e.text, needs);
        break;
      case ExprKind::kNumber:
        if (static_cast<Type>(e.type) == Type::kDate) {
          n.kind = NodeKind::kDate;
          n.ms = static_cast<std::int64_t>(e.value);
        } else {
          n.kind = NodeKind::kNumber;
          n.number = e.value;
        }
        break;
      case ExprKind::kBool:
        n.kind = NodeKind::kNumber;
        n.number = e.value;
        break;
      case ExprKind::kString:
        n.kind = NodeKind::kString;
        n.text = lower(e.text);
        if (domain == Type::kNumber) {  // a checker error already; never matches
          n.kind = NodeKind::kNumber;
          n.number = std::numeric_limits<double>::quiet_NaN();
        }
        break;
      case ExprKind::kDuration:
        n.kind = NodeKind::kDuration;
        n.ms = static_cast<std::int64_t>(e.value);
        break;
      case ExprKind::kArith:
        n.kind = NodeKind::kArith;
        n.arith = e.arith;
        n.a = operand(e.args[0], domain);
        n.b = operand(e.args[1], static_cast<Type>(e.args[1].type) == Type::kDuration ? Type::kDuration : domain);
        break;
      default:
        // A condition used as a value (checker reported it): evaluate it as a condition.
        return condition(e);
    }
    return add(std::move(n), e);
  }

  std::int32_t condition(const Expr& e) {
    Node n;
    const Type domain = static_cast<Type>(e.domain);
    switch (e.kind) {
      case ExprKind::kBool: n.kind = e.value != 0 ? NodeKind::kTrue : NodeKind::kFalse; break;
      case ExprKind::kIdent:
        n.kind = NodeKind::kTruthy;
        n.slot = slot(e.text, kNeedNumber);
        break;
      case ExprKind::kNot:
        n.kind = NodeKind::kNot;
        n.a = condition(e.args[0]);
        break;
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        n.kind = e.kind == ExprKind::kAnd ? NodeKind::kAnd : NodeKind::kOr;
        std::vector<std::int32_t> children;
        for (const auto& a : e.args) children.push_back(condition(a));
        n.first = static_cast<std::int32_t>(rs_.kids.size());
        n.count = static_cast<std::int32_t>(children.size());
        rs_.kids.insert(rs_.kids.end(), children.begin(), children.end());
        break;
      }
      case ExprKind::kCompare:
        n.kind = domain == Type::kDate      ? NodeKind::kCmpDate
                 : domain == Type::kNumber  ? NodeKind::kCmpNumber
                 : domain == Type::kBool    ? NodeKind::kCmpBool
                 : domain == Type::kUnknown ? NodeKind::kCmpAuto
                                            : NodeKind::kCmpString;
        n.cmp = e.cmp;
        n.a = operand(e.args[0], domain);
        n.b = operand(e.args[1], domain);
        break;
      case ExprKind::kBetween:
        n.kind = domain == Type::kDate ? NodeKind::kBetweenDate : NodeKind::kBetweenNumber;
        n.a = operand(e.args[0], domain);
        n.b = operand(e.args[1], domain);
        n.c = operand(e.args[2], domain);
        break;
      case ExprKind::kDomainIn: {
        n.kind = NodeKind::kDomainIn;
        n.negated = e.negated;
        n.a = operand(e.args[0], Type::kString);
        std::vector<std::int32_t> values;
        for (const auto& v : e.args[1].args) values.push_back(operand(v, Type::kString));
        n.first = static_cast<std::int32_t>(rs_.kids.size());
        n.count = static_cast<std::int32_t>(values.size());
        rs_.kids.insert(rs_.kids.end(), values.begin(), values.end());
        break;
      }
      case ExprKind::kIn: {
        n.kind = domain == Type::kNumber ? NodeKind::kInNumber : NodeKind::kInString;
        n.negated = e.negated;
        n.a = operand(e.args[0], domain);
        std::vector<std::int32_t> values;
        for (const auto& v : e.args[1].args) values.push_back(operand(v, domain));
        n.first = static_cast<std::int32_t>(rs_.kids.size());
        n.count = static_cast<std::int32_t>(values.size());
        rs_.kids.insert(rs_.kids.end(), values.begin(), values.end());
        break;
      }
      case ExprKind::kText:
      case ExprKind::kHas:
        n.kind = e.kind == ExprKind::kText ? NodeKind::kText : NodeKind::kHas;
        n.text_op = e.text_op;
        n.a = operand(e.args[0], Type::kString);
        if (e.kind == ExprKind::kText && e.args[1].kind == ExprKind::kList) {
          // "any of": the items are kids, as for 'in'; b stays -1.
          std::vector<std::int32_t> values;
          for (const auto& v : e.args[1].args) values.push_back(operand(v, Type::kString));
          n.first = static_cast<std::int32_t>(rs_.kids.size());
          n.count = static_cast<std::int32_t>(values.size());
          rs_.kids.insert(rs_.kids.end(), values.begin(), values.end());
        } else {
          n.b = operand(e.args[1], Type::kString);
        }
        break;
      case ExprKind::kMissing:
        n.kind = NodeKind::kMissing;
        n.negated = e.negated;
        n.slot = e.args[0].kind == ExprKind::kIdent ? slot(e.args[0].text, 0) : -1;
        break;
      case ExprKind::kWithin:
        n.kind = NodeKind::kWithin;
        n.negated = e.negated;
        n.a = operand(e.args[0], Type::kDate);
        n.ms = static_cast<std::int64_t>(e.args[1].value);
        break;
      default:
        // A bare value where a condition belongs (the checker reported it): never true.
        n.kind = NodeKind::kFalse;
        break;
    }
    return add(std::move(n), e);
  }

  CompiledRuleset& rs_;
  std::unordered_map<std::string, std::int32_t> builtin_by_name_;
  const Condition* cond_ = nullptr;
};

}  // namespace

LoadResult compile_ruleset(const std::string& file, std::string_view text, const PropertyCatalog* catalog,
                           const CampaignsSource* campaigns) {
  LoadResult result;
  auto rs = std::make_shared<CompiledRuleset>();
  rs->ast = parse_rule_file(file, text, result.diagnostics);
  if (campaigns) rs->ast.campaigns = parse_campaigns_file(campaigns->file, campaigns->text, result.diagnostics);
  // The checker also runs on a partial AST, so that one run reports every problem.
  check_ruleset(rs->ast, text, catalog, result.diagnostics, campaigns ? std::string_view(campaigns->text) : std::string_view());
  {
    // In file order (the rule file, then the campaigns file), so that a marketer reads them top
    // to bottom.
    std::vector<Diagnostic> sorted = result.diagnostics.all();
    std::stable_sort(sorted.begin(), sorted.end(), [&](const Diagnostic& a, const Diagnostic& b) {
      const auto in_campaigns = [&](const Diagnostic& d) {
        return !rs->ast.campaigns.file.empty() && d.file == rs->ast.campaigns.file;
      };
      if (in_campaigns(a) != in_campaigns(b)) return in_campaigns(b);
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    result.diagnostics = Diagnostics{};
    for (auto& d : sorted) result.diagnostics.add(std::move(d));
  }
  if (result.diagnostics.has_errors()) return result;
  rs->source = std::string(text);
  rs->version.hash = crypto::to_hex(crypto::sha256(text));
  rs->version.label = rs->ast.version_label;
  if (campaigns) {
    rs->campaigns_version.hash = crypto::to_hex(crypto::sha256(campaigns->text));
    rs->campaigns_version.label = rs->ast.campaigns.version_label;
  }
  RulesetCompiler(*rs).run();
  result.ruleset = std::move(rs);
  return result;
}

bool read_file(const std::string& path, std::string& out) {
  auto contents = tandem::read_file(path);
  if (!contents) return false;
  out = std::move(*contents);
  return true;
}

std::vector<std::string> rule_files(const std::string& path, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> out;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      const auto ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml") && !is_campaigns_file(entry.path().string()))
        out.push_back(entry.path().string());
    }
    std::sort(out.begin(), out.end());
    if (out.empty()) error = path + ": no rule files (*.yaml) in this directory";
  } else if (fs::exists(path, ec)) {
    out.push_back(path);
  } else {
    error = path + ": no such file or directory";
  }
  return out;
}

LoadResult load_ruleset(const std::string& path, const PropertyCatalog* catalog) {
  LoadResult result;
  std::string error;
  auto files = rule_files(path, error);
  if (files.size() > 1) error = path + ": holds several rule files; name one of them";
  if (!error.empty()) {
    result.diagnostics.error(path, 0, 0, error);
    return result;
  }
  std::string text;
  if (!read_file(files.front(), text)) {
    result.diagnostics.error(files.front(), 0, 0, "cannot read the file");
    return result;
  }
  std::optional<CampaignsSource> campaigns;
  if (auto beside = campaigns_file_beside(files.front())) {
    campaigns.emplace();
    campaigns->file = *beside;
    if (!read_file(*beside, campaigns->text)) {
      result.diagnostics.error(*beside, 0, 0, "cannot read the file");
      return result;
    }
  }
  return compile_ruleset(files.front(), text, catalog, campaigns ? &*campaigns : nullptr);
}

std::vector<FunnelStage> funnel_stages(const CompiledRuleset& rs) {
  static const FunnelStage kSteps[] = {{-1, "marketingqualifiedlead", "MQLs", "MQL", &CampaignTargets::mqls},
                                       {-1, "salesqualifiedlead", "SQLs", "SQL", &CampaignTargets::sqls},
                                       {-1, "opportunity", "opportunities", "opportunity", &CampaignTargets::opportunities},
                                       {-1, "customer", "won", "won deal", &CampaignTargets::won}};
  std::vector<FunnelStage> out;
  for (FunnelStage step : kSteps) {
    step.stage = rs.stage_index(step.name);
    if (step.stage >= 0) out.push_back(step);
  }
  return out;
}

bool is_campaigns_file(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name == "campaigns.yaml" || name == "campaigns.yml";
}

std::optional<std::string> campaigns_file_beside(const std::string& rule_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* name : {"campaigns.yaml", "campaigns.yml"}) {
    const fs::path p = fs::path(rule_file).parent_path() / name;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return std::nullopt;
}

}  // namespace tandem::rules
