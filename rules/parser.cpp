#include "rules/parser.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "common/config.hpp"
#include "rules/expression.hpp"

namespace tandem::rules {

const std::vector<std::string>& default_stages() {
  // HubSpot's default lifecycle stages, in order (lifecyclestage internal values).
  static const std::vector<std::string> stages = {"subscriber",         "lead",        "marketingqualifiedlead",
                                                  "salesqualifiedlead", "opportunity", "customer",
                                                  "evangelist",         "other"};
  return stages;
}

namespace detail {
Pos position_of(std::string_view text, std::size_t offset) {
  Pos p{1, 1};
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}
}  // namespace detail

namespace {

// Refuses input yaml-cpp could recurse on without bound (deep flow collections) before parsing.
bool nesting_within_limit(std::string_view text, int limit) {
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote || c == '\n') quote = 0;
      continue;
    }
    if (c == '"' || c == '\'')
      quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if ((c == ']' || c == '}') && depth > 0)
      --depth;
  }
  return true;
}

class RuleFileParser {
 public:
  RuleFileParser(const std::string& file, std::string_view text, Diagnostics& diags)
      : file_(file), text_(text), diags_(diags) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  RulesetAst run() {
    RulesetAst ast;
    ast.file = file_;
    const YAML::Node root = load("rule file", "a rule file is a mapping with keys such as 'fit', 'engagement' and 'qualify'");
    if (!root) return ast;
    try {
      top(root, ast);
    } catch (const std::exception& e) {
      // yaml-cpp conversions throw on shapes we did not foresee; report instead of crashing.
      error({1, 1}, std::string("could not read the rule file: ") + e.what());
    }
    return ast;
  }

  CampaignsAst run_campaigns() {
    CampaignsAst ast;
    ast.file = file_;
    const YAML::Node root = load("campaigns file", "a campaigns file is a mapping with the key 'campaigns'");
    if (!root) return ast;
    try {
      campaigns_top(root, ast);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("could not read the campaigns file: ") + e.what());
    }
    return ast;
  }

 private:
  // The document's root mapping, or an undefined node after reporting why not.
  YAML::Node load(const std::string& what, const std::string& shape) {
    if (text_.size() > kMaxRuleFileBytes) {
      error({1, 1}, "the " + what + " is larger than the limit of " + std::to_string(kMaxRuleFileBytes) + " bytes");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    if (!nesting_within_limit(text_, kMaxYamlNesting)) {
      error({1, 1}, "the " + what + " nests brackets more than " + std::to_string(kMaxYamlNesting) + " levels deep");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text_));
    } catch (const YAML::Exception& e) {
      Pos p{e.mark.line >= 0 ? e.mark.line + 1 : 1, e.mark.column >= 0 ? e.mark.column + 1 : 1};
      error(p, "this is not valid YAML: " + e.msg);
      return YAML::Node(YAML::NodeType::Undefined);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("this is not valid YAML: ") + e.what());
      return YAML::Node(YAML::NodeType::Undefined);
    }
    if (!root.IsDefined() || root.IsNull()) {
      error({1, 1}, "the " + what + " is empty");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    if (!root.IsMap()) {
      error(pos(root, {1, 1}), shape);
      return YAML::Node(YAML::NodeType::Undefined);
    }
    document_ = config::Document::adopt(root, std::string(text_), file_, diags_);
    return root;
  }

  // ---- the campaigns file ----

  std::optional<std::int64_t> day(const YAML::Node& n, Pos kp, const std::string& what) {
    auto t = text(n, kp, what);
    if (!t) return std::nullopt;
    auto ms = t->size() == 10 ? parse_date_ms(*t) : std::nullopt;
    if (!ms) {
      error(pos(n, kp), what + " is a day such as 2026-10-01, not '" + *t + "'");
      return std::nullopt;
    }
    return *ms / kMsPerDay;
  }

  std::optional<double> amount(const YAML::Node& n, Pos kp, const std::string& what) {
    auto v = number(n, kp, what);
    if (v && *v < 0) {
      error(pos(n, kp), what + " cannot be negative");
      return std::nullopt;
    }
    return v;
  }

  void campaigns_top(const YAML::Node& root, CampaignsAst& ast) {
    bool has_campaigns = false;
    keys(root, "the campaigns file",
         {{"version",
           [&](const YAML::Node& v, Pos kp) {
             if (auto t = text(v, kp, "version")) ast.version_label = *t;
           }},
          {"currency",
           [&](const YAML::Node& v, Pos kp) {
             if (auto t = text(v, kp, "currency")) ast.currency = *t;
           }},
          {"relevant", [&](const YAML::Node& v, Pos kp) { ast.relevant = condition(v, kp, "relevant"); }},
          {"campaigns", [&](const YAML::Node& v, Pos kp) {
             has_campaigns = true;
             sequence(v, kp, "'campaigns'", [&](const YAML::Node& item, Pos ip) { campaign(item, ip, ast); });
           }}});
    if (!has_campaigns) error({1, 1}, "the campaigns file needs 'campaigns', a list of campaigns");
  }

  void campaign(const YAML::Node& item, Pos ip, CampaignsAst& ast) {
    Campaign c;
    c.pos = ip;
    bool has_when = false, has_start = false, has_end = false;
    keys(item, "a campaign",
         {{"name", [&](const YAML::Node& x, Pos p) { c.name = text(x, p, "name").value_or(""); }},
          {"when",
           [&](const YAML::Node& x, Pos p) {
             has_when = true;
             c.when = condition(x, p, "when");
           }},
          {"date", [&](const YAML::Node& x, Pos p) { c.date_property = located(x, p, "date"); }},
          {"start",
           [&](const YAML::Node& x, Pos p) {
             has_start = true;
             c.start_day = day(x, p, "start");
           }},
          {"end",
           [&](const YAML::Node& x, Pos p) {
             has_end = true;
             c.end_day = day(x, p, "end");
           }},
          {"budget",
           [&](const YAML::Node& x, Pos p) {
             if (!x.IsSequence())
               return error(pos(x, p), "'budget' is a list of cost lines such as { item: Booth, cost: 18000 }");
             for (const auto& line : x) {
               const Pos lp = pos(line, p);
               if (!line.IsMap()) {
                 error(lp, "a budget line is a mapping such as { item: Booth, cost: 18000 }");
                 continue;
               }
               BudgetLine b;
               b.pos = lp;
               bool has_cost = false;
               keys(line, "a budget line",
                    {{"item", [&](const YAML::Node& y, Pos q) { b.item = text(y, q, "item").value_or(""); }},
                     {"cost", [&](const YAML::Node& y, Pos q) {
                        has_cost = true;
                        b.cost = amount(y, q, "cost").value_or(0);
                      }}});
               require(has_cost, lp, "cost", "a budget line");
               c.budget.push_back(std::move(b));
             }
           }},
          {"targets", [&](const YAML::Node& x, Pos p) { targets(x, p, c.targets); }},
          {"win_rate", [&](const YAML::Node& x, Pos p) {
             auto v = number(x, p, "win_rate");
             if (v && (*v <= 0 || *v > 1))
               return error(pos(x, p), "win_rate is the share of opportunities expected to be won, from 0 to 1 (0.25)");
             c.win_rate = v;
           }}});
    require(!c.name.empty(), ip, "name", "a campaign");
    require(has_when, ip, "when", "a campaign");
    require(has_start, ip, "start", "a campaign");
    require(has_end, ip, "end", "a campaign");
    if (c.date_property.value.empty()) c.date_property = {"createdate", ip};
    if (c.start_day && c.end_day && *c.end_day < *c.start_day) error(ip, "the campaign '" + c.name + "' ends before it starts");
    ast.campaigns.push_back(std::move(c));
  }

  void targets(const YAML::Node& n, Pos kp, CampaignTargets& t) {
    if (!n.IsMap()) return error(pos(n, kp), "'targets' is a mapping such as { mqls: 120, sqls: 60 }");
    // A count, or for opportunities and won deals a count and/or a value: { count: 25, value: 500000 }.
    auto counted = [this](const char* what, std::optional<double>* count, std::optional<double>* value) {
      return [this, what, count, value](const YAML::Node& v, Pos p) {
        if (v.IsMap() && value) {
          keys(v, std::string("the target '") + what + "'",
               {{"count", [&](const YAML::Node& y, Pos q) { *count = amount(y, q, "count"); }},
                {"value", [&](const YAML::Node& y, Pos q) { *value = amount(y, q, "value"); }}});
          return;
        }
        if (!v.IsScalar())
          return error(pos(v, p), std::string("the target '") + what + "' is a number" +
                                      (value ? " or { count: 25, value: 500000 }" : ""));
        *count = amount(v, p, std::string("the target '") + what + "'");
      };
    };
    keys(n, "targets",
         {{"relevant_leads", counted("relevant_leads", &t.relevant_leads, nullptr)},
          {"mqls", counted("mqls", &t.mqls, nullptr)},
          {"sqls", counted("sqls", &t.sqls, nullptr)},
          {"opportunities", counted("opportunities", &t.opportunities, &t.opportunity_value)},
          {"won", counted("won", &t.won, &t.won_value)}});
  }

  Pos pos(const YAML::Node& n, Pos fallback) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0 || m.column < 0) return fallback;
    return {m.line + 1, m.column + 1};
  }
  void error(Pos p, std::string msg) {
    diags_.error(file_, p.line, p.column, std::move(msg), source_line_of(text_, p.line));
  }
  void warning(Pos p, std::string msg) {
    diags_.warning(file_, p.line, p.column, std::move(msg), source_line_of(text_, p.line));
  }
  bool budget() {
    if (++nodes_ > kMaxYamlNodes) {
      if (!budget_reported_) error({1, 1}, "the rule file has too many elements (aliases expanding?)");
      budget_reported_ = true;
      return false;
    }
    return true;
  }

  using KeyHandler = std::function<void(const YAML::Node& value, Pos key_pos)>;
  // Walks a mapping with the common walker (common/config.hpp): known keys go to their handlers;
  // unknown keys (with a suggestion), keys given twice and keys that are not words are reported
  // in the words of `what` ("unknown key 'nme' in a qualify rule; did you mean 'name'?").
  void keys(const YAML::Node& map, const std::string& what,
            const std::vector<std::pair<std::string, KeyHandler>>& handlers) {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (!budget()) return;
    config::ConfigSection section = document_->section_at(map, what);
    const Pos fallback = pos(map, {1, 1});
    for (const auto& [name, handle] : handlers) {
      section.raw(name, [&](const YAML::Node& key, const YAML::Node& value) { handle(value, pos(key, fallback)); });
    }
    section.finish();
  }

  std::optional<std::string> text(const YAML::Node& n, Pos kp, const std::string& what) {
    if (!n.IsScalar()) {
      error(pos(n, kp), what + " must be a single value");
      return std::nullopt;
    }
    return n.Scalar();
  }
  std::optional<double> number(const YAML::Node& n, Pos kp, const std::string& what) {
    auto t = text(n, kp, what);
    if (!t) return std::nullopt;
    try {
      std::size_t used = 0;
      const double v = std::stod(*t, &used);
      if (used == t->size() && std::isfinite(v) && std::fabs(v) < 1e12) return v;
    } catch (const std::exception&) {
    }
    error(pos(n, kp), what + " must be a number, not '" + *t + "'");
    return std::nullopt;
  }
  std::optional<bool> boolean(const YAML::Node& n, Pos kp, const std::string& what) {
    auto t = text(n, kp, what);
    if (!t) return std::nullopt;
    if (auto b = config::parse_boolean(*t)) return b;
    error(pos(n, kp), what + " must be true or false, not '" + *t + "'");
    return std::nullopt;
  }
  std::optional<DurationSpec> duration(const YAML::Node& n, Pos kp, const std::string& what) {
    auto t = text(n, kp, what);
    if (!t) return std::nullopt;
    std::string why;
    auto d = parse_duration(*t, &why);
    if (!d) error(pos(n, kp), what + ": '" + *t + "' is not a duration: " + why);
    return d;
  }
  Located located(const YAML::Node& n, Pos kp, const std::string& what) {
    Located l;
    l.pos = pos(n, kp);
    if (auto t = text(n, kp, what)) l.value = *t;
    return l;
  }

  // Maps every character of the scalar's value to its position in the file by walking the source
  // from the scalar's mark: quotes, escapes, line breaks and indentation are skipped.
  std::vector<Pos> positions_for(const YAML::Node& n, const std::string& value, Pos fallback) {
    std::vector<Pos> out;
    out.reserve(value.size() + 1);
    const YAML::Mark m = n.Mark();
    if (m.pos < 0 || static_cast<std::size_t>(m.pos) > text_.size()) {
      out.assign(value.size() + 1, fallback);
      return out;
    }
    std::size_t j = static_cast<std::size_t>(m.pos);
    auto to_pos = [&](std::size_t offset) {
      auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
      const std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
      return Pos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
    };
    for (char c : value) {
      std::size_t k = j;
      while (k < text_.size() && k < j + 64 && text_[k] != c) ++k;
      if (k < text_.size() && text_[k] == c) j = k;
      out.push_back(to_pos(std::min(j, text_.size())));
      if (j < text_.size()) ++j;
    }
    out.push_back(to_pos(std::min(j, text_.size())));
    return out;
  }

  Condition condition(const YAML::Node& n, Pos kp, const std::string& what) {
    Condition c;
    auto t = text(n, kp, what);
    if (!t) return c;
    c.text = *t;
    c.positions = positions_for(n, c.text, pos(n, kp));
    ExpressionError err;
    if (parse_expression(c.text, c.expr, err)) {
      c.parsed = true;
    } else {
      error(c.at(err.offset), err.message);
    }
    return c;
  }

  template <typename F>
  void sequence(const YAML::Node& n, Pos kp, const std::string& what, F each) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      error(pos(n, kp), what + " must be a list (items starting with '- ')");
      return;
    }
    for (const auto& item : n) {
      if (!budget()) return;
      const Pos ip = pos(item, kp);
      if (!item.IsMap()) {
        error(ip, "each item of " + what + " is a mapping with keys such as 'name' and 'when'");
        continue;
      }
      each(item, ip);
    }
  }

  void require(bool present, Pos p, const std::string& key, const std::string& what) {
    if (!present) error(p, what + " needs '" + key + "'");
  }

  std::string rule_name(const std::string& name, Pos p, const std::string& section) {
    if (name.empty()) return section + " rule at line " + std::to_string(p.line);
    return name;
  }

  void top(const YAML::Node& root, RulesetAst& ast) {
    bool has_stages = false;
    keys(root, "the rule file",
         {{"version",
           [&](const YAML::Node& v, Pos kp) {
             if (auto t = text(v, kp, "version")) ast.version_label = *t;
           }},
          {"settings", [&](const YAML::Node& v, Pos kp) { settings(v, kp, ast.settings); }},
          {"stages",
           [&](const YAML::Node& v, Pos kp) {
             has_stages = true;
             if (!v.IsSequence()) return error(pos(v, kp), "'stages' is a list of stage names in order");
             for (const auto& s : v) ast.stages.push_back(located(s, kp, "a stage"));
           }},
          {"fit",
           [&](const YAML::Node& v, Pos kp) {
             FitModel model;
             model.name = "fit";
             model.pos = kp;
             if (v.IsMap())
               fit_model(v, kp, model, false);
             else
               fit_rules(v, kp, model);
             ast.fit.insert(ast.fit.begin(), std::move(model));
           }},
          {"fit_models",
           [&](const YAML::Node& v, Pos kp) {
             sequence(v, kp, "'fit_models'", [&](const YAML::Node& item, Pos ip) {
               FitModel model;
               model.pos = ip;
               fit_model(item, ip, model, true);
               ast.fit.push_back(std::move(model));
             });
           }},
          {"engagement", [&](const YAML::Node& v, Pos kp) { engagement(v, kp, ast.engagement); }},
          {"not_ready",
           [&](const YAML::Node& v, Pos kp) {
             sequence(v, kp, "'not_ready'", [&](const YAML::Node& item, Pos ip) {
               NotReadyRule r;
               r.pos = ip;
               bool has_when = false;
               keys(item, "a not_ready rule",
                    {{"name", [&](const YAML::Node& x, Pos p) { r.name = text(x, p, "name").value_or(""); }},
                     {"when",
                      [&](const YAML::Node& x, Pos p) {
                        has_when = true;
                        r.when = condition(x, p, "when");
                      }},
                     {"reason", [&](const YAML::Node& x, Pos p) { r.reason = text(x, p, "reason").value_or(""); }}});
               require(has_when, ip, "when", "a not_ready rule");
               r.name = rule_name(r.name, ip, "not_ready");
               if (r.reason.empty()) r.reason = slug(r.name);
               ast.not_ready.push_back(std::move(r));
             });
           }},
          {"data_quality", [&](const YAML::Node& v, Pos kp) { data_quality(v, kp, ast.data_quality); }},
          {"qualify",
           [&](const YAML::Node& v, Pos kp) {
             sequence(v, kp, "'qualify'", [&](const YAML::Node& item, Pos ip) {
               Transition t;
               t.pos = ip;
               bool has_when = false, has_stage = false;
               keys(item, "a qualify rule",
                    {{"name", [&](const YAML::Node& x, Pos p) { t.name = text(x, p, "name").value_or(""); }},
                     {"when",
                      [&](const YAML::Node& x, Pos p) {
                        has_when = true;
                        t.when = condition(x, p, "when");
                      }},
                     {"stage",
                      [&](const YAML::Node& x, Pos p) {
                        has_stage = true;
                        t.stage = located(x, p, "stage");
                      }},
                     {"lead_status",
                      [&](const YAML::Node& x, Pos p) { t.lead_status = text(x, p, "lead_status").value_or(""); }},
                     {"handoff", [&](const YAML::Node& x, Pos p) { t.handoff = handoff(x, p); }},
                     {"task", [&](const YAML::Node& x, Pos p) { t.task = task(x, p, "a task", {}); }},
                     {"ignore_not_ready", [&](const YAML::Node& x, Pos p) {
                        t.ignore_not_ready = boolean(x, p, "ignore_not_ready").value_or(false);
                      }}});
               require(has_when, ip, "when", "a qualify rule");
               require(has_stage, ip, "stage", "a qualify rule");
               t.name = rule_name(t.name, ip, "qualify");
               ast.qualify.push_back(std::move(t));
             });
           }},
          {"return_to_nurture",
           [&](const YAML::Node& v, Pos kp) {
             sequence(v, kp, "'return_to_nurture'", [&](const YAML::Node& item, Pos ip) {
               ReturnRule r;
               r.pos = ip;
               bool has_when = false, has_stage = false;
               keys(item, "a return_to_nurture rule",
                    {{"name", [&](const YAML::Node& x, Pos p) { r.name = text(x, p, "name").value_or(""); }},
                     {"when",
                      [&](const YAML::Node& x, Pos p) {
                        has_when = true;
                        r.when = condition(x, p, "when");
                      }},
                     {"stage",
                      [&](const YAML::Node& x, Pos p) {
                        has_stage = true;
                        r.stage = located(x, p, "stage");
                      }},
                     {"reason", [&](const YAML::Node& x, Pos p) { r.reason = text(x, p, "reason").value_or(""); }},
                     {"cool_off", [&](const YAML::Node& x, Pos p) { r.cool_off = duration(x, p, "cool_off"); }},
                     {"lead_status",
                      [&](const YAML::Node& x, Pos p) { r.lead_status = text(x, p, "lead_status").value_or(""); }}});
               require(has_when, ip, "when", "a return_to_nurture rule");
               require(has_stage, ip, "stage", "a return_to_nurture rule");
               r.name = rule_name(r.name, ip, "return_to_nurture");
               if (r.reason.empty()) r.reason = slug(r.name);
               ast.returns.push_back(std::move(r));
             });
           }},
          {"sla", [&](const YAML::Node& v, Pos kp) {
             sequence(v, kp, "'sla'", [&](const YAML::Node& item, Pos ip) { sla(item, ip, ast); });
           }}});
    if (!has_stages)
      for (auto& s : default_stages()) ast.stages.push_back({s, {}});
  }

  static std::string slug(const std::string& name) {
    std::string out;
    for (char c : name) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        out += c;
      else if (c >= 'A' && c <= 'Z')
        out += static_cast<char>(c - 'A' + 'a');
      else if (!out.empty() && out.back() != '_')
        out += '_';
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out;
  }

  std::optional<HandoffMode> handoff(const YAML::Node& n, Pos kp) {
    auto t = text(n, kp, "handoff");
    if (!t) return std::nullopt;
    if (*t == "manager_review") return HandoffMode::kManagerReview;
    if (*t == "direct") return HandoffMode::kDirect;
    error(pos(n, kp),
          "handoff is 'manager_review' (a manager reviews and assigns) or 'direct' (straight to the owner), not '" +
              *t + "'");
    return std::nullopt;
  }

  void settings(const YAML::Node& n, Pos kp, Settings& s) {
    if (!n.IsMap()) return error(pos(n, kp), "'settings' is a mapping");
    keys(
        n, "settings",
        {{"time_zone",
          [&](const YAML::Node& v, Pos p) {
            auto t = text(v, p, "time_zone");
            if (!t) return;
            std::string problem;
            auto zone = TimeZone::parse(*t, &problem);
            if (!zone) return error(pos(v, p), "time_zone: " + problem);
            s.time_zone = *t;
            s.calendar.zone = std::move(*zone);
          }},
         {"business_days",
          [&](const YAML::Node& v, Pos p) {
            if (!v.IsSequence()) return error(pos(v, p), "business_days is a list such as [mon, tue, wed, thu, fri]");
            static const std::vector<std::string> names = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
            s.calendar.weekday_mask = 0;
            for (const auto& d : v) {
              auto t = text(d, p, "a business day");
              if (!t) continue;
              auto it = std::find(names.begin(), names.end(), *t);
              if (it == names.end()) {
                error(pos(d, p), "unknown day '" + *t + "' (use mon, tue, wed, thu, fri, sat, sun)");
                continue;
              }
              s.calendar.weekday_mask |= 1u << (it - names.begin());
            }
          }},
         {"business_hours",
          [&](const YAML::Node& v, Pos p) {
            auto t = text(v, p, "business_hours");
            if (!t) return;
            int h1, m1, h2, m2;
            if (std::sscanf(t->c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4 || h1 < 0 || h1 > 24 || h2 < 0 ||
                h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || h1 * 60 + m1 >= h2 * 60 + m2)
              return error(pos(v, p), "business_hours looks like \"09:00-17:00\"");
            s.calendar.day_start_minute = h1 * 60 + m1;
            s.calendar.day_end_minute = h2 * 60 + m2;
          }},
         {"holidays",
          [&](const YAML::Node& v, Pos p) {
            if (!v.IsSequence()) return error(pos(v, p), "holidays is a list of dates such as [2026-12-25]");
            for (const auto& d : v) {
              auto t = text(d, p, "a holiday");
              if (!t) continue;
              auto ms = t->size() == 10 ? parse_date_ms(*t) : std::nullopt;
              if (!ms) {
                error(pos(d, p), "a holiday is a date such as 2026-12-25");
                continue;
              }
              s.calendar.holidays.push_back(*ms / kMsPerDay);
            }
            std::sort(s.calendar.holidays.begin(), s.calendar.holidays.end());
          }},
         {"handoff",
          [&](const YAML::Node& v, Pos p) {
            if (auto h = handoff(v, p)) s.handoff = *h;
          }},
         {"managers",
          [&](const YAML::Node& v, Pos p) {
            if (!v.IsMap()) return error(pos(v, p), "managers maps an owner id to their manager's owner id");
            for (auto it = v.begin(); it != v.end(); ++it) {
              if (!it->first.IsScalar() || !it->second.IsScalar()) {
                error(pos(it->first, p), "managers maps an owner id to their manager's owner id");
                continue;
              }
              s.managers[it->first.Scalar()] = it->second.Scalar();
            }
          }},
         {"default_manager",
          [&](const YAML::Node& v, Pos p) { s.default_manager = text(v, p, "default_manager").value_or(""); }},
         {"score_properties", [&](const YAML::Node& v, Pos p) {
            if (!v.IsMap())
              return error(
                  pos(v, p),
                  "score_properties is a mapping such as {fit: tandem_fit_score, engagement: tandem_engagement_score}");
            keys(v, "score_properties",
                 {{"fit", [&](const YAML::Node& x, Pos q) { s.fit_score_property = text(x, q, "fit").value_or(""); }},
                  {"engagement", [&](const YAML::Node& x, Pos q) {
                     s.engagement_score_property = text(x, q, "engagement").value_or("");
                   }}});
          }}});
  }

  void fit_rules(const YAML::Node& n, Pos kp, FitModel& model) {
    sequence(n, kp, "fit rules", [&](const YAML::Node& item, Pos ip) {
      FitRule r;
      r.pos = ip;
      bool has_when = false, has_points = false;
      keys(item, "a fit rule",
           {{"name", [&](const YAML::Node& x, Pos p) { r.name = text(x, p, "name").value_or(""); }},
            {"when",
             [&](const YAML::Node& x, Pos p) {
               has_when = true;
               r.when = condition(x, p, "when");
             }},
            {"points", [&](const YAML::Node& x, Pos p) {
               has_points = true;
               r.points = number(x, p, "points").value_or(0);
             }}});
      require(has_when, ip, "when", "a fit rule");
      require(has_points, ip, "points", "a fit rule");
      r.name = rule_name(r.name, ip, "fit");
      model.rules.push_back(std::move(r));
    });
  }

  void fit_model(const YAML::Node& n, Pos kp, FitModel& model, bool named) {
    bool has_rules = false;
    std::vector<std::pair<std::string, KeyHandler>> handlers = {
        {"range",
         [&](const YAML::Node& v, Pos p) {
           if (!v.IsSequence() || v.size() != 2) return error(pos(v, p), "range is [lowest, highest], e.g. [0, 100]");
           model.min = number(v[0], p, "the lowest score");
           model.max = number(v[1], p, "the highest score");
           if (model.min && model.max && *model.min > *model.max)
             error(pos(v, p), "range: the lowest score is above the highest");
         }},
        {"rules", [&](const YAML::Node& v, Pos p) {
           has_rules = true;
           fit_rules(v, p, model);
         }}};
    if (named)
      handlers.push_back({"name", [&](const YAML::Node& v, Pos p) { model.name = text(v, p, "name").value_or(""); }});
    keys(n, named ? "a fit model" : "'fit'", handlers);
    if (named && model.name.empty()) error(kp, "a fit model needs 'name' (used in conditions, e.g. partner_fit >= 40)");
    require(has_rules, kp, "rules", named ? "a fit model" : "'fit'");
  }

  void engagement(const YAML::Node& n, Pos kp, Engagement& e) {
    e.present = true;
    e.pos = kp;
    if (!n.IsMap()) return error(pos(n, kp), "'engagement' is a mapping with 'half_life' and 'signals'");
    keys(n, "'engagement'",
         {{"half_life",
           [&](const YAML::Node& v, Pos p) {
             if (auto d = duration(v, p, "half_life")) e.half_life_ms = half_life(*d, v, p);
           }},
          {"max", [&](const YAML::Node& v, Pos p) { e.max = number(v, p, "max"); }},
          {"signals", [&](const YAML::Node& v, Pos p) {
             sequence(v, p, "'signals'", [&](const YAML::Node& item, Pos ip) {
               Signal s;
               s.pos = ip;
               bool has_points = false;
               keys(item, "a signal",
                    {{"name", [&](const YAML::Node& x, Pos q) { s.name = text(x, q, "name").value_or(""); }},
                     {"when", [&](const YAML::Node& x, Pos q) { s.when = condition(x, q, "when"); }},
                     {"points",
                      [&](const YAML::Node& x, Pos q) {
                        has_points = true;
                        s.points = number(x, q, "points").value_or(0);
                      }},
                     {"date", [&](const YAML::Node& x, Pos q) { s.date_property = located(x, q, "date"); }},
                     {"half_life",
                      [&](const YAML::Node& x, Pos q) {
                        if (auto d = duration(x, q, "half_life")) s.half_life_ms = half_life(*d, x, q);
                      }},
                     {"window",
                      [&](const YAML::Node& x, Pos q) {
                        if (auto d = duration(x, q, "window")) s.window_ms = d->calendar_ms();
                      }},
                     {"per", [&](const YAML::Node& x, Pos q) { s.per_property = located(x, q, "per"); }},
                     {"max", [&](const YAML::Node& x, Pos q) { s.max_points = number(x, q, "max"); }}});
               require(has_points, ip, "points", "a signal");
               if (s.when.text.empty() && s.per_property.value.empty())
                 error(ip, "a signal needs 'when' (a condition) or 'per' (points per unit of a numeric property)");
               s.name = rule_name(s.name, ip, "engagement");
               e.signals.push_back(std::move(s));
             });
           }}});
  }

  std::optional<std::int64_t> half_life(const DurationSpec& d, const YAML::Node& v, Pos p) {
    if (d.business) error(pos(v, p), "a half-life is in calendar time (decay does not pause on weekends)");
    if (d.calendar_ms() <= 0) {
      error(pos(v, p), "a half-life must be longer than zero");
      return std::nullopt;
    }
    return d.calendar_ms();
  }

  void data_quality(const YAML::Node& n, Pos kp, DataQuality& dq) {
    if (!n.IsMap()) return error(pos(n, kp), "'data_quality' is a mapping with 'required' and 'checks'");
    keys(n, "'data_quality'",
         {{"required",
           [&](const YAML::Node& v, Pos p) {
             if (!v.IsSequence()) return error(pos(v, p), "required is a list of property names");
             for (const auto& r : v) dq.required.push_back(located(r, p, "a required property"));
           }},
          {"checks",
           [&](const YAML::Node& v, Pos p) {
             sequence(v, p, "'checks'", [&](const YAML::Node& item, Pos ip) {
               DataCheck c;
               c.pos = ip;
               bool has_must = false;
               keys(item, "a data-quality check",
                    {{"name", [&](const YAML::Node& x, Pos q) { c.name = text(x, q, "name").value_or(""); }},
                     {"must",
                      [&](const YAML::Node& x, Pos q) {
                        has_must = true;
                        c.must = condition(x, q, "must");
                      }},
                     {"message", [&](const YAML::Node& x, Pos q) { c.message = text(x, q, "message").value_or(""); }}});
               require(has_must, ip, "must", "a data-quality check");
               c.name = rule_name(c.name, ip, "data_quality");
               if (c.message.empty()) c.message = c.name;
               dq.checks.push_back(std::move(c));
             });
           }},
          {"task", [&](const YAML::Node& v, Pos p) { dq.task = task(v, p, "the data-fix task", {}); }}});
  }

  std::optional<TaskSpec> task(const YAML::Node& n, Pos kp, const std::string& what,
                               std::vector<std::pair<std::string, KeyHandler>> extra) {
    if (!n.IsMap()) {
      error(pos(n, kp), what + " is a mapping with 'subject' and optionally body, type, priority, due, assign");
      return std::nullopt;
    }
    TaskSpec t;
    t.pos = pos(n, kp);
    bool has_subject = false;
    std::vector<std::pair<std::string, KeyHandler>> handlers = {
        {"subject",
         [&](const YAML::Node& v, Pos p) {
           has_subject = true;
           t.subject = located(v, p, "subject");
         }},
        {"body", [&](const YAML::Node& v, Pos p) { t.body = located(v, p, "body"); }},
        {"type",
         [&](const YAML::Node& v, Pos p) {
           auto s = text(v, p, "type");
           if (s && *s != "CALL" && *s != "EMAIL" && *s != "TODO")
             return error(pos(v, p), "a task's type is CALL, EMAIL or TODO, not '" + *s + "'");
           if (s) t.type = *s;
         }},
        {"priority",
         [&](const YAML::Node& v, Pos p) {
           auto s = text(v, p, "priority");
           if (s && *s != "LOW" && *s != "MEDIUM" && *s != "HIGH")
             return error(pos(v, p), "a task's priority is LOW, MEDIUM or HIGH, not '" + *s + "'");
           if (s) t.priority = *s;
         }},
        {"due", [&](const YAML::Node& v, Pos p) { t.due = duration(v, p, "due"); }},
        {"assign", [&](const YAML::Node& v, Pos p) {
           auto s = text(v, p, "assign");
           if (!s) return;
           if (*s == "owner")
             t.assign = AssigneeKind::kOwner;
           else if (*s == "manager")
             t.assign = AssigneeKind::kManager;
           else if (!s->empty() && std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; })) {
             t.assign = AssigneeKind::kNamed;
             t.named_owner = *s;
           } else {
             error(pos(v, p), "assign is 'owner', 'manager' or a HubSpot owner id (digits), not '" + *s + "'");
           }
         }}};
    for (auto& e : extra) handlers.push_back(std::move(e));
    keys(n, what, handlers);
    if (!has_subject) error(t.pos, what + " needs 'subject'");
    return t;
  }

  void sla(const YAML::Node& item, Pos ip, RulesetAst& ast) {
    SlaRule s;
    s.pos = ip;
    bool has_starts = false, has_within = false, has_done = false;
    keys(item, "an sla rule",
         {{"name", [&](const YAML::Node& x, Pos p) { s.name = text(x, p, "name").value_or(""); }},
          {"starts",
           [&](const YAML::Node& x, Pos p) {
             has_starts = true;
             auto t = text(x, p, "starts");
             if (!t) return;
             const std::string prefix = "stage becomes ";
             if (t->rfind(prefix, 0) != 0 || t->size() == prefix.size())
               return error(pos(x, p), "starts reads 'stage becomes <stage>', e.g. 'stage becomes salesqualifiedlead'");
             s.stage.value = t->substr(prefix.size());
             auto positions = positions_for(x, *t, pos(x, p));
             s.stage.pos = positions[prefix.size()];
           }},
          {"within",
           [&](const YAML::Node& x, Pos p) {
             has_within = true;
             if (auto d = duration(x, p, "within")) s.within = *d;
           }},
          {"done_when",
           [&](const YAML::Node& x, Pos p) {
             has_done = true;
             s.done_when = condition(x, p, "done_when");
           }},
          {"task", [&](const YAML::Node& x, Pos p) { s.task = task(x, p, "the SLA task", {}); }},
          {"escalate", [&](const YAML::Node& x, Pos p) {
             bool has_after = false;
             s.escalate_task = task(x, p, "the escalation", {{"after", [&](const YAML::Node& v, Pos q) {
                                                                has_after = true;
                                                                s.escalate_after = duration(v, q, "after");
                                                              }}});
             if (s.escalate_task && !has_after) error(pos(x, p), "the escalation needs 'after' (e.g. after: 21 days)");
             if (s.escalate_task && s.escalate_task->assign == AssigneeKind::kDefault)
               s.escalate_task->assign = AssigneeKind::kManager;
           }}});
    require(has_starts, ip, "starts", "an sla rule");
    require(has_within, ip, "within", "an sla rule");
    require(has_done, ip, "done_when", "an sla rule");
    s.name = rule_name(s.name, ip, "sla");
    ast.sla.push_back(std::move(s));
  }

  const std::string& file_;
  std::string_view text_;
  Diagnostics& diags_;
  std::optional<config::Document> document_;  // over the parsed root, reporting into diags_
  std::vector<std::size_t> line_starts_;
  int nodes_ = 0;
  bool budget_reported_ = false;
};

}  // namespace

RulesetAst parse_rule_file(const std::string& file, std::string_view text, Diagnostics& diagnostics) {
  RuleFileParser parser(file, text, diagnostics);
  return parser.run();
}

CampaignsAst parse_campaigns_file(const std::string& file, std::string_view text, Diagnostics& diagnostics) {
  RuleFileParser parser(file, text, diagnostics);
  return parser.run_campaigns();
}

}  // namespace tandem::rules
