#include "rules/checker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "rules/expression.hpp"

namespace tandem::rules {

std::optional<PropertyCatalog> PropertyCatalog::from_json(std::string_view text, std::string& error) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = "the property list is not valid JSON";
    return std::nullopt;
  }
  const nlohmann::json* list = &j;
  if (j.is_object() && j.contains("results")) list = &j["results"];
  if (!list->is_array()) {
    error = "the property list is not HubSpot's {\"results\": [...]} export";
    return std::nullopt;
  }
  PropertyCatalog catalog;
  for (const auto& p : *list) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
    std::vector<std::string> options;
    if (p.contains("options") && p["options"].is_array())
      for (const auto& o : p["options"])
        if (o.is_object() && o.contains("value") && o["value"].is_string()) options.push_back(o["value"].get<std::string>());
    auto text_of = [&](const char* key) {
      const auto it = p.find(key);
      return it != p.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    PropertyInfo info = describe(p["name"].get<std::string>(), text_of("type"), text_of("fieldType"), std::move(options));
    catalog.add(std::move(info));
  }
  return catalog;
}

PropertyInfo PropertyCatalog::describe(std::string name, std::string_view type, std::string_view field,
                                       std::vector<std::string> options) {
  PropertyInfo info;
  info.name = std::move(name);
  if (type == "number")
    info.type = Type::kNumber;
  else if (type == "date" || type == "datetime")
    info.type = Type::kDate;
  else if (type == "bool" || field == "booleancheckbox")
    info.type = Type::kBool;
  else if (type == "enumeration" || type == "string" || type == "phone_number")
    info.type = Type::kString;
  info.multi = type == "enumeration" && field == "checkbox";
  info.options = std::move(options);
  return info;
}

void PropertyCatalog::add(PropertyInfo info) {
  if (!by_name_.count(info.name)) names_.push_back(info.name);
  by_name_[info.name] = std::move(info);
}

const PropertyInfo* PropertyCatalog::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

namespace {

const char* type_name(Type t) {
  switch (t) {
    case Type::kUnknown: return "a value";
    case Type::kNumber: return "a number";
    case Type::kString: return "text";
    case Type::kBool: return "true/false";
    case Type::kDate: return "a date";
    case Type::kDuration: return "a duration";
    case Type::kList: return "a list";
  }
  return "a value";
}

struct Builtin {
  std::string name;
  Type type;
  std::vector<Section> sections;
  const char* where;
};

class RuleChecker {
 public:
  RuleChecker(RulesetAst& ast, std::string_view text, std::string_view campaigns_text, const PropertyCatalog* catalog,
              Diagnostics& diags)
      : ast_(ast), text_(text), campaigns_text_(campaigns_text), file_(&ast.file), source_(text), catalog_(catalog), defaults_(catalog ? nullptr : &default_contact_properties()),
        diags_(diags) {
    const std::vector<Section> all = {Section::kFit,    Section::kSignal,  Section::kDataQuality, Section::kNotReady,
                                      Section::kReturn, Section::kQualify, Section::kSla,         Section::kCampaign,
                                      Section::kRelevant};
    const std::vector<Section> late = {Section::kNotReady, Section::kReturn, Section::kQualify, Section::kRelevant};
    builtins_ = {
        {"now", Type::kDate, all, ""},
        {"not_ready", Type::kBool, {Section::kReturn, Section::kQualify, Section::kRelevant},
         "in qualify and return_to_nurture rules and a campaigns file's relevant"},
        {"data_ok", Type::kBool, late, "in not_ready, qualify and return_to_nurture rules and a campaigns file's relevant"},
        {"engagement", Type::kNumber, late, "in not_ready, qualify and return_to_nurture rules and a campaigns file's relevant"},
        {"recycle_count", Type::kNumber, late, "in not_ready, qualify and return_to_nurture rules and a campaigns file's relevant"},
        {"in_cool_off", Type::kBool, late, "in not_ready, qualify and return_to_nurture rules and a campaigns file's relevant"},
        {"started_at", Type::kDate, {Section::kSla}, "in an SLA's done_when"}};
    for (const auto& m : ast_.fit)
      builtins_.push_back({m.name, Type::kNumber, late, "in not_ready, qualify and return_to_nurture rules and a campaigns file's relevant"});
    for (const auto& b : builtins_) builtin_names_.push_back(b.name);
  }

  void run() {
    std::set<std::string> model_names;
    for (auto& m : ast_.fit) {
      if (!model_names.insert(m.name).second) error(m.pos, "there are two fit models named '" + m.name + "'");
      static const std::vector<std::string> reserved = {
          "now", "not_ready", "data_ok", "engagement", "recycle_count", "in_cool_off", "started_at", "true", "false"};
      const bool word = !m.name.empty() && std::all_of(m.name.begin(), m.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      }) && !(m.name[0] >= '0' && m.name[0] <= '9');
      if (std::find(reserved.begin(), reserved.end(), m.name) != reserved.end())
        error(m.pos, "'" + m.name + "' is a built-in name; give the fit model another name");
      else if (!word)
        error(m.pos,
              "a fit model's name is used in conditions: lower-case letters, digits and '_' only, e.g. partner_fit");
      if (catalog_ && catalog_->find(m.name))
        warning(m.pos,
                "the fit model '" + m.name + "' has the name of a contact property; conditions will read the score");
      for (auto& r : m.rules) condition(r.when, Section::kFit);
    }
    for (auto& s : ast_.engagement.signals) {
      if (!s.when.text.empty()) condition(s.when, Section::kSignal);
      if (!s.date_property.value.empty()) property_name(s.date_property, Type::kDate, "the signal's date");
      if (!s.per_property.value.empty()) property_name(s.per_property, Type::kNumber, "the signal's count");
      if (s.date_property.value.empty() && (s.half_life_ms || s.window_ms))
        error(s.pos, "the signal '" + s.name + "' has a half-life or window but no 'date' property to measure it from");
    }
    if (ast_.engagement.present && !ast_.engagement.half_life_ms)
      for (auto& s : ast_.engagement.signals)
        if (!s.date_property.value.empty() && !s.half_life_ms && !s.window_ms)
          warning(s.pos, "the signal '" + s.name + "' has a date but no half-life or window: its points never decay");
    for (auto& r : ast_.data_quality.required) property_name(r, Type::kUnknown);
    for (auto& c : ast_.data_quality.checks) condition(c.must, Section::kDataQuality);
    for (auto& r : ast_.not_ready) condition(r.when, Section::kNotReady);
    for (auto& r : ast_.returns) {
      condition(r.when, Section::kReturn);
      stage(r.stage);
    }
    for (auto& t : ast_.qualify) {
      condition(t.when, Section::kQualify);
      stage(t.stage);
      if (t.task) task(*t.task);
    }
    for (auto& s : ast_.sla) {
      condition(s.done_when, Section::kSla);
      stage(s.stage);
      if (s.task) task(*s.task);
      if (s.escalate_task) task(*s.escalate_task);
      if (s.escalate_after && s.escalate_after->calendar_ms() < s.within.calendar_ms())
        warning(s.pos, "the SLA '" + s.name + "' escalates (" + s.escalate_after->to_string() +
                           ") before its deadline (" + s.within.to_string() + ")");
    }
    if (ast_.data_quality.task) task(*ast_.data_quality.task);
    campaigns();
    std::set<std::string> stage_names;
    for (auto& s : ast_.stages)
      if (!stage_names.insert(s.value).second) error(s.pos, "the stage '" + s.value + "' is listed twice");
    dead_rules();
    overlaps();
  }

 private:
  void error(Pos p, std::string msg) {
    diags_.error(*file_, p.line, p.column, std::move(msg), source_line_of(source_, p.line));
  }
  void warning(Pos p, std::string msg) {
    diags_.warning(*file_, p.line, p.column, std::move(msg), source_line_of(source_, p.line));
  }

  // The campaigns file: names, conditions (a campaign's on contact properties; `relevant` may
  // also read the scores), date properties, and targets that contradict the funnel.
  void campaigns() {
    CampaignsAst& c = ast_.campaigns;
    if (c.file.empty()) return;
    file_ = &c.file;
    source_ = campaigns_text_;
    std::set<std::string> names;
    for (auto& camp : c.campaigns) {
      if (!camp.name.empty() && !names.insert(camp.name).second)
        error(camp.pos, "there are two campaigns named '" + camp.name + "'");
      condition(camp.when, Section::kCampaign);
      if (builtin(camp.date_property.value))
        error(camp.date_property.pos, "'" + camp.date_property.value +
                                          "' is computed by Tandem; a campaign's date is a contact property such as createdate");
      else
        property_name(camp.date_property, Type::kDate, "the campaign's date");
      const CampaignTargets& t = camp.targets;
      const std::pair<const char*, const std::optional<double>*> funnel[] = {{"relevant_leads", &t.relevant_leads},
                                                                             {"mqls", &t.mqls},
                                                                             {"sqls", &t.sqls},
                                                                             {"opportunities", &t.opportunities},
                                                                             {"won", &t.won}};
      const std::pair<const char*, const std::optional<double>*>* before = nullptr;
      for (const auto& step : funnel) {
        if (!*step.second) continue;
        if (before && **step.second > **before->second)
          warning(camp.pos, "the campaign '" + camp.name + "' targets more " + step.first + " (" +
                                format_number(**step.second) + ") than " + before->first + " (" +
                                format_number(**before->second) + "): each stage comes from the one before");
        before = &step;
      }
      // A target counts contacts at HubSpot's lifecycle stage or beyond: the rules must have it.
      const std::pair<const char*, const std::optional<double>*> staged[] = {{"marketingqualifiedlead", &t.mqls},
                                                                             {"salesqualifiedlead", &t.sqls},
                                                                             {"opportunity", &t.opportunities},
                                                                             {"customer", &t.won}};
      for (const auto& [stage_name, target] : staged)
        if (*target && std::none_of(ast_.stages.begin(), ast_.stages.end(),
                                    [&](const Located& s) { return s.value == stage_name; }))
          warning(camp.pos, "the campaign '" + camp.name + "' has a target counted at the stage " + stage_name +
                                ", which the rules' stages do not have: it is not tracked");
      if (t.won_value && t.opportunity_value && *t.won_value > *t.opportunity_value)
        warning(camp.pos, "the campaign '" + camp.name + "' targets more won value than opportunity value");
    }
    if (c.relevant) condition(*c.relevant, Section::kRelevant);
    file_ = &ast_.file;
    source_ = text_;
  }

  static std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }

  const Builtin* builtin(const std::string& name) const {
    for (const auto& b : builtins_)
      if (b.name == name) return &b;
    return nullptr;
  }

  void stage(const Located& s) {
    if (s.value.empty()) return;
    for (const auto& st : ast_.stages)
      if (st.value == s.value) return;
    std::vector<std::string> names;
    for (const auto& st : ast_.stages) names.push_back(st.value);
    std::string msg = "unknown stage '" + s.value + "'";
    const std::string near = nearest_match(s.value, names);
    msg += near.empty() ? " (stages: " + join(names) + ")" : "; did you mean '" + near + "'?";
    error(s.pos, msg);
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  void note(Pos p, std::string msg) {
    diags_.add({Severity::kNote, *file_, p.line, p.column, std::move(msg), source_line_of(source_, p.line)});
  }

  // A property named outside a condition (a signal's date or count) checked against HubSpot's
  // default contact properties when the account's own list is not given. A misspelt name would
  // otherwise make the signal silently never count.
  void default_property_name(const Located& p, Type wanted, const std::string& what) {
    if (const PropertyInfo* info = defaults_->find(p.value)) {
      if (wanted != Type::kUnknown && info->type != Type::kUnknown && info->type != wanted)
        warning(p.pos, what + " '" + p.value + "' is " + type_name(info->type) + " in HubSpot, but " +
                           type_name(wanted) + " is needed here");
      return;
    }
    const std::string near = nearest_match(p.value, defaults_->names());
    if (!near.empty())
      warning(p.pos, what + " '" + p.value + "' is not a HubSpot contact property; did you mean '" + near +
                         "'? (if it is a custom property, check with --properties or --account)");
    else
      note(p.pos, what + " '" + p.value +
                      "' is not one of HubSpot's default contact properties; if it is a custom property, check its "
                      "name with --properties or --account");
  }

  void property_name(const Located& p, Type wanted, const std::string& what = {}) {
    if (p.value.empty()) return;
    if (!catalog_) {
      if (defaults_ && !what.empty()) default_property_name(p, wanted, what);
      return;
    }
    const PropertyInfo* info = catalog_->find(p.value);
    if (!info) {
      std::string msg = "unknown property '" + p.value + "'";
      const std::string near = nearest_match(p.value, catalog_->names());
      if (!near.empty())
        msg += "; did you mean '" + near + "'?";
      else
        msg += " (not in the property list)";
      error(p.pos, msg);
      return;
    }
    if (wanted != Type::kUnknown && info->type != Type::kUnknown && info->type != wanted)
      error(p.pos, "'" + p.value + "' is " + type_name(info->type) + ", but " + type_name(wanted) + " is needed here");
  }

  void task(const TaskSpec& t) {
    placeholders(t.subject);
    placeholders(t.body);
  }

  void placeholders(const Located& l) {
    const std::string& s = l.value;
    const bool quoted = l.pos.line > 0 && [&] {
      const std::string line = source_line_of(text_, l.pos.line);
      const auto c = static_cast<std::size_t>(l.pos.column - 1);
      return c < line.size() && (line[c] == '"' || line[c] == '\'');
    }();
    std::size_t i = 0;
    while ((i = s.find("{{", i)) != std::string::npos) {
      const std::size_t end = s.find("}}", i + 2);
      Pos p{l.pos.line, l.pos.column + static_cast<int>(i) + (quoted ? 1 : 0)};
      if (end == std::string::npos) {
        error(p, "'{{' without a closing '}}' in the template");
        return;
      }
      std::string name = s.substr(i + 2, end - i - 2);
      while (!name.empty() && name.front() == ' ') name.erase(name.begin());
      while (!name.empty() && name.back() == ' ') name.pop_back();
      static const std::vector<std::string> known = {"explanation", "fit",   "engagement", "stage", "reason",
                                                     "rule",        "owner", "manager",    "due"};
      bool ok = std::find(known.begin(), known.end(), name) != known.end() || builtin(name);
      if (!ok && catalog_ && !catalog_->find(name)) {
        std::vector<std::string> candidates = catalog_->names();
        candidates.insert(candidates.end(), known.begin(), known.end());
        std::string msg = "unknown placeholder '{{" + name + "}}'";
        const std::string near = nearest_match(name, candidates);
        if (!near.empty()) msg += "; did you mean '{{" + near + "}}'?";
        error(p, msg);
      } else if (name.empty()) {
        error(p, "empty placeholder '{{}}'");
      }
      i = end + 2;
    }
  }

  void condition(Condition& c, Section section) {
    if (!c.parsed) return;
    cond_ = &c;
    section_ = section;
    const Type t = type_of(c.expr);
    if (t != Type::kBool && t != Type::kUnknown)
      error(c.at(c.expr.offset), "this condition is " + std::string(type_name(t)) +
                                     ", not true/false; compare it, e.g. '" + to_source(c.expr) +
                                     (t == Type::kDate     ? " within 30d'"
                                      : t == Type::kString ? " == \"...\"'"
                                                           : " > 0'"));
    c.expr.type = static_cast<std::uint8_t>(Type::kBool);
  }

  void expr_error(const Expr& e, std::string msg) { error(cond_->at(e.offset), std::move(msg)); }

  static bool is_literal(const Expr& e) {
    return e.kind == ExprKind::kNumber || e.kind == ExprKind::kString || e.kind == ExprKind::kDuration ||
           e.kind == ExprKind::kBool;
  }

  const PropertyInfo* info_of(const Expr& e) const {
    if (e.kind != ExprKind::kIdent || !catalog_ || builtin(e.text)) return nullptr;
    return catalog_->find(e.text);
  }

  Type ident_type(Expr& e) {
    if (const Builtin* b = builtin(e.text)) {
      if (std::find(b->sections.begin(), b->sections.end(), section_) == b->sections.end()) {
        expr_error(e, "'" + e.text + "' can only be used " + b->where);
        return Type::kUnknown;
      }
      return b->type;
    }
    if (catalog_) {
      if (const PropertyInfo* info = catalog_->find(e.text)) return info->type;
      std::vector<std::string> candidates = catalog_->names();
      candidates.insert(candidates.end(), builtin_names_.begin(), builtin_names_.end());
      std::string msg = "unknown property '" + e.text + "'";
      const std::string near = nearest_match(e.text, candidates);
      if (!near.empty())
        msg += "; did you mean '" + near + "'?";
      else
        msg += " (not in the property list)";
      expr_error(e, msg);
      return Type::kUnknown;
    }
    const std::string near = nearest_match(e.text, builtin_names_);
    if (!near.empty() && near != e.text)
      warning(cond_->at(e.offset), "'" + e.text + "' is read as a contact property; did you mean '" + near + "'?");
    return Type::kUnknown;
  }

  // A value an enumeration does not have: an error against the account's list; a warning against
  // HubSpot's defaults (an account may have edited the options).
  void option_check(const Expr& prop, const Expr& literal) {
    const PropertyInfo* info = info_of(prop);
    const bool from_defaults = !info && !catalog_ && defaults_ && prop.kind == ExprKind::kIdent && !builtin(prop.text);
    if (from_defaults) info = defaults_->find(prop.text);
    if (!info || info->options.empty() || literal.kind != ExprKind::kString) return;
    for (const auto& o : info->options)
      if (o == literal.text || (from_defaults && lower(o) == lower(literal.text))) return;
    std::string msg = "'" + literal.text + "' is not a value of '" + prop.text + "'";
    if (from_defaults) msg += " in HubSpot's default options";
    const std::string near = nearest_match(literal.text, info->options);
    if (!near.empty())
      msg += "; did you mean \"" + near + "\"?";
    else if (info->options.size() <= 12)
      msg += " (values: " + join(info->options) + ")";
    else
      msg += " (" + std::to_string(info->options.size()) + " values, such as " +
             join({info->options.begin(), info->options.begin() + 5}) + ")";
    if (from_defaults)
      warning(cond_->at(literal.offset), msg + (near.empty() ? "" : " (if the account has its own options, check with --properties or --account)"));
    else
      expr_error(literal, msg);
  }

  // A string literal in a date context becomes a date literal.
  bool make_date(Expr& e) {
    if (e.kind != ExprKind::kString) return false;
    auto ms = parse_date_ms(e.text);
    if (!ms || e.text.find('-') == std::string::npos) return false;
    e.kind = ExprKind::kNumber;
    e.value = static_cast<double>(*ms);
    e.type = static_cast<std::uint8_t>(Type::kDate);
    return true;
  }

  Type set(Expr& e, Type t) {
    e.type = static_cast<std::uint8_t>(t);
    return t;
  }

  void want_bool(Expr& e) {
    const Type t = type_of(e);
    if (t == Type::kBool || t == Type::kUnknown) return;
    expr_error(e, "'" + to_source(e) + "' is " + type_name(t) + ", not a condition; compare it with something");
  }

  Type type_of(Expr& e) {
    if (e.type == static_cast<std::uint8_t>(Type::kDate) && e.kind == ExprKind::kNumber) return Type::kDate;
    switch (e.kind) {
      case ExprKind::kNumber: return set(e, Type::kNumber);
      case ExprKind::kString: return set(e, Type::kString);
      case ExprKind::kDuration: return set(e, Type::kDuration);
      case ExprKind::kBool: return set(e, Type::kBool);
      case ExprKind::kIdent: return set(e, ident_type(e));
      case ExprKind::kList: {
        for (auto& a : e.args) {
          if (!is_literal(a)) expr_error(a, "a list holds values (text or numbers), not '" + to_source(a) + "'");
          type_of(a);
        }
        return set(e, Type::kList);
      }
      case ExprKind::kNot:
      case ExprKind::kAnd:
      case ExprKind::kOr:
        for (auto& a : e.args) want_bool(a);
        return set(e, Type::kBool);
      case ExprKind::kArith: {
        const Type l = type_of(e.args[0]), r = type_of(e.args[1]);
        if ((l == Type::kDate || l == Type::kUnknown) && r == Type::kDuration) return set(e, Type::kDate);
        if ((l == Type::kNumber || l == Type::kUnknown) && (r == Type::kNumber || r == Type::kUnknown))
          return set(e, Type::kNumber);
        expr_error(e, std::string("cannot compute ") + type_name(l) + " " + e.arith + " " + type_name(r) +
                          " (dates take durations: now - 30d)");
        return set(e, Type::kUnknown);
      }
      case ExprKind::kCompare: return compare(e);
      case ExprKind::kBetween: {
        Type t = type_of(e.args[0]);
        const Type lo = type_of(e.args[1]), hi = type_of(e.args[2]);
        if (t == Type::kUnknown && (lo == Type::kDate || hi == Type::kDate)) t = Type::kDate;
        if (t == Type::kDate) {
          for (int i = 1; i <= 2; ++i) {
            Expr& b = e.args[static_cast<std::size_t>(i)];
            if (static_cast<Type>(b.type) != Type::kDate && !make_date(b))
              expr_error(b, std::string("the bounds of a date range must be dates, not ") +
                                type_name(static_cast<Type>(b.type)));
          }
          e.domain = static_cast<std::uint8_t>(Type::kDate);
        } else if (t == Type::kNumber || t == Type::kUnknown) {
          for (int i = 1; i <= 2; ++i) {
            Expr& b = e.args[static_cast<std::size_t>(i)];
            const Type bt = static_cast<Type>(b.type);
            if (bt != Type::kNumber && bt != Type::kUnknown)
              expr_error(b, std::string("'between' needs numbers here, not ") + type_name(bt));
          }
          e.domain = static_cast<std::uint8_t>(Type::kNumber);
        } else {
          expr_error(e.args[0], std::string("'between' works on numbers and dates, not ") + type_name(t));
        }
        return set(e, Type::kBool);
      }
      case ExprKind::kDomainIn: {
        const Type l = type_of(e.args[0]);
        type_of(e.args[1]);
        if (l != Type::kString && l != Type::kUnknown)
          expr_error(e.args[0], "'domain' reads an email address, but '" + to_source(e.args[0]) + "' is " + type_name(l));
        for (auto& item : e.args[1].args) {
          const Type it = static_cast<Type>(item.type);
          if (it != Type::kString && it != Type::kUnknown) {
            expr_error(item, std::string("a domain is text, e.g. \"gmail.com\", not ") + type_name(it));
          } else if (item.kind == ExprKind::kString && item.text.find('@') != std::string::npos) {
            expr_error(item, "give the domain without '@', e.g. \"" + item.text.substr(item.text.rfind('@') + 1) + "\"");
          }
        }
        if (e.args[1].args.empty()) expr_error(e.args[1], "'domain in' needs at least one domain");
        e.domain = static_cast<std::uint8_t>(Type::kString);
        return set(e, Type::kBool);
      }
      case ExprKind::kIn: {
        const Type l = type_of(e.args[0]);
        type_of(e.args[1]);
        if (e.args[1].kind != ExprKind::kList) {
          expr_error(e.args[1], "'in' needs a list, e.g. [\"A\", \"B\"]");
          return set(e, Type::kBool);
        }
        Type elem = Type::kUnknown;
        for (auto& a : e.args[1].args) {
          const Type at = static_cast<Type>(a.type);
          if (elem == Type::kUnknown)
            elem = at;
          else if (at != elem)
            expr_error(a, "the list mixes text and numbers");
          option_check(e.args[0], a);
        }
        if (l == Type::kDate || l == Type::kBool || l == Type::kDuration || l == Type::kList)
          expr_error(e.args[0], std::string("'in' compares text or numbers, not ") + type_name(l));
        else if (l == Type::kNumber && elem == Type::kString)
          expr_error(e.args[1], "a number compared with a list of text");
        else if (l == Type::kString && elem == Type::kNumber)
          expr_error(e.args[1], "text compared with a list of numbers");
        e.domain = static_cast<std::uint8_t>(elem == Type::kNumber ? Type::kNumber : Type::kString);
        return set(e, Type::kBool);
      }
      case ExprKind::kText:
      case ExprKind::kHas: {
        const Type l = type_of(e.args[0]);
        const char* op = e.kind == ExprKind::kHas             ? "has"
                         : e.text_op == TextOp::kContains     ? "contains"
                         : e.text_op == TextOp::kContainsWord ? "contains word"
                         : e.text_op == TextOp::kStartsWith   ? "starts with"
                                                              : "ends with";
        Type r = bare_word(e.args[0], e.args[1], op) ? Type::kUnknown : type_of(e.args[1]);
        if (e.args[1].kind == ExprKind::kList) {
          // "... any of [...]": each item is text; the list as a whole is read as text.
          if (e.args[1].args.empty()) expr_error(e.args[1], std::string("'") + op + " any of' needs at least one item");
          for (auto& item : e.args[1].args) {
            const Type it = static_cast<Type>(item.type);
            if (it != Type::kString && it != Type::kUnknown)
              expr_error(item, std::string("'") + op + " any of' needs text items, not " + type_name(it));
          }
          r = Type::kString;
        }
        if (l != Type::kString && l != Type::kUnknown)
          expr_error(e.args[0],
                     std::string("'") + op + "' works on text, but '" + to_source(e.args[0]) + "' is " + type_name(l));
        if (r != Type::kString && r != Type::kUnknown)
          expr_error(e.args[1], std::string("'") + op + "' needs text on its right, not " + type_name(r));
        if (e.kind == ExprKind::kHas) {
          option_check(e.args[0], e.args[1]);
          if (const PropertyInfo* info = info_of(e.args[0]); info && !info->multi && !info->options.empty())
            warning(cond_->at(e.offset),
                    "'" + info->name + "' holds one value; 'has' is meant for multiple checkboxes, use '=='");
        } else if (const PropertyInfo* info = info_of(e.args[0]);
                   info && info->multi && e.text_op == TextOp::kContains) {
          warning(cond_->at(e.offset),
                  "'" + info->name + "' holds several values; 'has' tests for one of them exactly");
        }
        e.domain = static_cast<std::uint8_t>(Type::kString);
        return set(e, Type::kBool);
      }
      case ExprKind::kMissing: {
        Expr& a = e.args[0];
        if (a.kind != ExprKind::kIdent)
          expr_error(a, "'is missing' applies to a property name");
        else if (builtin(a.text))
          expr_error(a, "'" + a.text + "' is computed by Tandem and is never missing");
        else
          type_of(a);
        return set(e, Type::kBool);
      }
      case ExprKind::kWithin: {
        const Type l = type_of(e.args[0]), r = type_of(e.args[1]);
        if (l != Type::kDate && l != Type::kUnknown)
          expr_error(e.args[0],
                     std::string("'within' needs a date, but '") + to_source(e.args[0]) + "' is " + type_name(l));
        if (r != Type::kDuration)
          expr_error(e.args[1], "'within' needs a duration such as 30d, not " + std::string(type_name(r)));
        else if (e.args[1].value < 0)
          expr_error(e.args[1], "'within' needs a positive duration");
        e.domain = static_cast<std::uint8_t>(Type::kDate);
        return set(e, Type::kBool);
      }
    }
    return Type::kUnknown;
  }

  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  // The option of `prop` (per the account's list, else HubSpot's defaults) that `word` names,
  // ignoring case; empty when none.
  std::string option_named(const Expr& prop, const std::string& word) const {
    if (prop.kind != ExprKind::kIdent || builtin(prop.text)) return {};
    const PropertyCatalog* list = catalog_ ? catalog_ : defaults_;
    const PropertyInfo* info = list ? list->find(prop.text) : nullptr;
    if (!info) return {};
    for (const auto& o : info->options)
      if (lower(o) == lower(word)) return o;
    return {};
  }

  // `hs_lead_status == UNQUALIFIED`: an unquoted word is a property name, so the rule compares two
  // properties and, the word being no property, never holds. Said before the word is typed (with
  // an account's list an unknown name is an error, reported here with the way out). Returns true
  // when it reported the word.
  bool bare_word(Expr& prop, Expr& word, const std::string& op) {
    if (word.kind != ExprKind::kIdent || builtin(word.text)) return false;
    const PropertyCatalog* list = catalog_ ? catalog_ : defaults_;
    if (!list || list->find(word.text)) return false;
    const std::string option = option_named(prop, word.text);
    const std::string value = option.empty() ? word.text : option;
    std::string msg = "'" + word.text + "' is not a quoted value, so it is read as a property name, and ";
    msg += catalog_ ? std::string("the account has no such property")
                    : std::string("HubSpot has no such default contact property");
    if (!option.empty())
      msg += "; \"" + option + "\" is an option of '" + prop.text + "': write " + prop.text + " " +
             op + " \"" + option + "\"";
    else {
      msg += "; to compare with the text, write \"" + value + "\"";
      std::vector<std::string> candidates = list->names();
      candidates.insert(candidates.end(), builtin_names_.begin(), builtin_names_.end());
      const std::string near = nearest_match(word.text, candidates);
      if (!near.empty()) msg += ", or did you mean the property '" + near + "'?";
      if (!catalog_) msg += " (a custom property? check with --properties or --account)";
    }
    if (catalog_)
      expr_error(word, msg);
    else
      warning(cond_->at(word.offset), msg);
    set(word, Type::kUnknown);
    return true;
  }

  static const char* cmp_text(CmpOp op) {
    switch (op) {
      case CmpOp::kEq: return "==";
      case CmpOp::kNe: return "!=";
      case CmpOp::kLt: return "<";
      case CmpOp::kLe: return "<=";
      case CmpOp::kGt: return ">";
      case CmpOp::kGe: return ">=";
    }
    return "==";
  }

  Type compare(Expr& e) {
    Expr& a = e.args[0];
    Expr& b = e.args[1];
    const bool b_bare = a.kind == ExprKind::kIdent && bare_word(a, b, cmp_text(e.cmp));
    const bool a_bare = !b_bare && b.kind == ExprKind::kIdent && bare_word(b, a, cmp_text(e.cmp));
    Type l = a_bare ? Type::kUnknown : type_of(a), r = b_bare ? Type::kUnknown : type_of(b);
    const bool ordering = e.cmp != CmpOp::kEq && e.cmp != CmpOp::kNe;
    auto mismatch = [&](Type x, Type y) {
      expr_error(e, std::string(type_name(x)) + " compared with " + type_name(y) + " in '" + to_source(e) + "'" +
                        (x == Type::kDate && y == Type::kDuration
                             ? "; for 'in the last 30 days' write 'x within 30d' or 'x > now - 30d'"
                             : ""));
    };
    Type domain = Type::kUnknown;
    if (l == Type::kDate || r == Type::kDate) {
      if (l == Type::kString) l = make_date(a) ? Type::kDate : l;
      if (r == Type::kString) r = make_date(b) ? Type::kDate : r;
      if ((l != Type::kDate && l != Type::kUnknown) || (r != Type::kDate && r != Type::kUnknown))
        mismatch(l == Type::kDate ? l : r, l == Type::kDate ? r : l);
      domain = Type::kDate;
    } else if (l == Type::kNumber || r == Type::kNumber) {
      if ((l != Type::kNumber && l != Type::kUnknown) || (r != Type::kNumber && r != Type::kUnknown))
        mismatch(l == Type::kNumber ? l : r, l == Type::kNumber ? r : l);
      domain = Type::kNumber;
    } else if (l == Type::kString || r == Type::kString) {
      if ((l != Type::kString && l != Type::kUnknown) || (r != Type::kString && r != Type::kUnknown))
        mismatch(l == Type::kString ? l : r, l == Type::kString ? r : l);
      if (ordering) {
        // An unknown property ordered against a date-looking literal is a date comparison.
        if (l == Type::kUnknown && make_date(b)) return set_domain(e, Type::kDate);
        if (r == Type::kUnknown && make_date(a)) return set_domain(e, Type::kDate);
        expr_error(e, "text can only be compared with == or != (or contains / starts with / ends with)");
      }
      if (a.kind == ExprKind::kIdent) option_check(a, b);
      if (b.kind == ExprKind::kIdent) option_check(b, a);
      domain = Type::kString;
    } else if (l == Type::kBool || r == Type::kBool) {
      if ((l != Type::kBool && l != Type::kUnknown) || (r != Type::kBool && r != Type::kUnknown)) mismatch(l, r);
      if (ordering) expr_error(e, "true/false values can only be compared with == or !=");
      domain = Type::kBool;
    } else if (l == Type::kDuration || r == Type::kDuration || l == Type::kList || r == Type::kList) {
      expr_error(e, std::string("cannot compare ") + type_name(l) + " with " + type_name(r));
    } else {
      // Two contact properties of unknown type: ordered as numbers or as dates, whichever both are.
      domain = ordering ? Type::kUnknown : Type::kString;
    }
    return set_domain(e, domain);
  }

  Type set_domain(Expr& e, Type domain) {
    e.domain = static_cast<std::uint8_t>(domain);
    return set(e, Type::kBool);
  }

  // ---- warnings about rules that never apply or overlap ----

  static void conjuncts(const Expr& e, std::vector<const Expr*>& out) {
    if (e.kind == ExprKind::kAnd) {
      for (const auto& a : e.args) conjuncts(a, out);
    } else {
      out.push_back(&e);
    }
  }

  struct Interval {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    bool lo_open = false, hi_open = false;
    std::set<std::string> equals;  // text equalities
  };

  // Narrows intervals per name from simple atoms: name <op> number, name between a and b,
  // name == "text". Returns false when the atoms contradict each other.
  static bool consistent(const std::vector<const Expr*>& atoms) {
    std::map<std::string, Interval> by_name;
    std::set<std::string> positive, negative;
    for (const Expr* a : atoms) {
      const std::string src = to_source(*a);
      if (a->kind == ExprKind::kNot)
        negative.insert(to_source(a->args[0]));
      else
        positive.insert(src);
      if (a->kind == ExprKind::kCompare && a->args[0].kind == ExprKind::kIdent &&
          a->args[1].kind == ExprKind::kNumber && static_cast<Type>(a->domain) == Type::kNumber) {
        Interval& iv = by_name[a->args[0].text];
        const double v = a->args[1].value;
        switch (a->cmp) {
          case CmpOp::kEq:
            narrow_lo(iv, v, false);
            narrow_hi(iv, v, false);
            break;
          case CmpOp::kGt: narrow_lo(iv, v, true); break;
          case CmpOp::kGe: narrow_lo(iv, v, false); break;
          case CmpOp::kLt: narrow_hi(iv, v, true); break;
          case CmpOp::kLe: narrow_hi(iv, v, false); break;
          case CmpOp::kNe: break;
        }
      } else if (a->kind == ExprKind::kBetween && a->args[0].kind == ExprKind::kIdent &&
                 a->args[1].kind == ExprKind::kNumber && a->args[2].kind == ExprKind::kNumber &&
                 static_cast<Type>(a->domain) == Type::kNumber) {
        Interval& iv = by_name[a->args[0].text];
        narrow_lo(iv, a->args[1].value, false);
        narrow_hi(iv, a->args[2].value, false);
      } else if (a->kind == ExprKind::kCompare && a->cmp == CmpOp::kEq && a->args[0].kind == ExprKind::kIdent &&
                 a->args[1].kind == ExprKind::kString) {
        std::string v = a->args[1].text;
        for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        by_name[a->args[0].text].equals.insert(v);
      }
    }
    for (const auto& s : negative)
      if (positive.count(s)) return false;
    for (const auto& [name, iv] : by_name) {
      if (iv.lo > iv.hi || (iv.lo == iv.hi && (iv.lo_open || iv.hi_open))) return false;
      if (iv.equals.size() > 1) return false;
    }
    return true;
  }
  static void narrow_lo(Interval& iv, double v, bool open) {
    if (v > iv.lo || (v == iv.lo && open)) {
      iv.lo = v;
      iv.lo_open = open;
    }
  }
  static void narrow_hi(Interval& iv, double v, bool open) {
    if (v < iv.hi || (v == iv.hi && open)) {
      iv.hi = v;
      iv.hi_open = open;
    }
  }

  std::string where(Pos p) const { return ast_.file + ":" + std::to_string(p.line); }

  void dead_rules() {
    auto never = [&](const Condition& c, Pos p, const std::string& what) {
      if (!c.parsed) return false;
      std::vector<const Expr*> atoms;
      conjuncts(c.expr, atoms);
      if (consistent(atoms)) return false;
      warning(p, what + " can never apply: its conditions contradict each other ('" + to_source(c.expr) + "')");
      return true;
    };
    for (auto& m : ast_.fit)
      for (auto& r : m.rules) never(r.when, r.pos, "the fit rule '" + r.name + "'");
    for (auto& r : ast_.not_ready) never(r.when, r.pos, "the not_ready rule '" + r.name + "'");
    for (auto& t : ast_.qualify) {
      if (never(t.when, t.pos, "the qualify rule '" + t.name + "'") || !t.when.parsed || t.ignore_not_ready) continue;
      std::vector<const Expr*> q;
      conjuncts(t.when.expr, q);
      std::set<std::string> qs;
      for (auto* a : q) qs.insert(to_source(*a));
      for (auto& n : ast_.not_ready) {
        if (!n.when.parsed) continue;
        // The not-ready rule holds whenever one of its alternatives ("a or b") has all its parts
        // among the qualify rule's own conditions.
        std::vector<const Expr*> alternatives;
        if (n.when.expr.kind == ExprKind::kOr)
          for (const auto& a : n.when.expr.args) alternatives.push_back(&a);
        else
          alternatives.push_back(&n.when.expr);
        const bool implied = std::any_of(alternatives.begin(), alternatives.end(), [&](const Expr* alt) {
          std::vector<const Expr*> na;
          conjuncts(*alt, na);
          return std::all_of(na.begin(), na.end(), [&](const Expr* a) { return qs.count(to_source(*a)) > 0; });
        });
        if (implied) {
          warning(t.pos, "the qualify rule '" + t.name + "' can never apply: whenever it holds, the not_ready rule '" +
                             n.name + "' (" + where(n.pos) + ") holds too and keeps the contact in nurture");
          break;
        }
      }
    }
  }

  void overlaps() {
    for (std::size_t i = 0; i < ast_.qualify.size(); ++i) {
      for (std::size_t j = i + 1; j < ast_.qualify.size(); ++j) {
        const Transition& a = ast_.qualify[i];
        const Transition& b = ast_.qualify[j];
        if (a.stage.value != b.stage.value || !a.when.parsed || !b.when.parsed) continue;
        std::vector<const Expr*> atoms;
        conjuncts(a.when.expr, atoms);
        conjuncts(b.when.expr, atoms);
        if (!consistent(atoms)) continue;
        warning(b.pos, "the qualify rules '" + a.name + "' (" + where(a.pos) + ") and '" + b.name +
                           "' both move contacts to " + a.stage.value +
                           " and can hold together; the first one in the file is used (its task and lead status)");
      }
    }
  }

  RulesetAst& ast_;
  std::string_view text_;
  std::string_view campaigns_text_;
  // The file being checked and its text: the rule file, or the campaigns file.
  const std::string* file_;
  std::string_view source_;
  const PropertyCatalog* catalog_;
  // HubSpot's default contact properties when no export of the account's is given: names not in it
  // may be custom properties, so they only warn (or, without a near default, note).
  const PropertyCatalog* defaults_;
  Diagnostics& diags_;
  std::vector<Builtin> builtins_;
  std::vector<std::string> builtin_names_;
  Condition* cond_ = nullptr;
  Section section_ = Section::kFit;
};

}  // namespace

void check_ruleset(RulesetAst& ast, std::string_view text, const PropertyCatalog* catalog, Diagnostics& diagnostics,
                   std::string_view campaigns_text) {
  RuleChecker checker(ast, text, campaigns_text, catalog, diagnostics);
  checker.run();
}

}  // namespace tandem::rules
