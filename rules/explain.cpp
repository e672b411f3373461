#include "rules/explain.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rules/expression.hpp"

namespace tandem::rules {

std::string format_points(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 0.05)
    std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

namespace {

std::string line_of(const CompiledRuleset& rs, Pos p) { return rs.ast.file + ":" + std::to_string(p.line); }

void collect_slots(const CompiledRuleset& rs, std::int32_t i, std::vector<std::int32_t>& out) {
  if (i < 0) return;
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  if ((n.kind == NodeKind::kSlot || n.kind == NodeKind::kTruthy || n.kind == NodeKind::kMissing) && n.slot >= 0) {
    for (auto s : out)
      if (s == n.slot) return;
    out.push_back(n.slot);
  }
  collect_slots(rs, n.a, out);
  collect_slots(rs, n.b, out);
  collect_slots(rs, n.c, out);
}

std::string value_words(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t slot) {
  const std::string& name = rs.slot_names[static_cast<std::size_t>(slot)];
  const SlotValue& v = ev.slots()[static_cast<std::size_t>(slot)];
  const auto& b = rs.builtins;
  if (slot == b.now) return {};
  if (static_cast<std::size_t>(slot) >= rs.property_count) {
    if (slot == b.not_ready || slot == b.data_ok || slot == b.in_cool_off)
      return name + " is " + (v.number != 0 ? "true" : "false");
    if (slot == b.started_at) return v.present ? "started at " + format_date(v.ms) : "not started";
    return name + " is " + format_points(v.number);
  }
  if (!v.present) return name + " is not set";
  if (v.has_date && !v.text.empty() && v.text.find('-') == std::string_view::npos)
    return name + " is " + format_date(v.ms);
  return name + " is \"" + std::string(v.text) + "\"";
}

ConditionAtom atom_of(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t i) {
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  ConditionAtom atom;
  atom.text = n.expr ? to_source(*n.expr) : "?";
  const auto& trace = ev.trace();
  atom.result = static_cast<std::size_t>(i) < trace.size() ? trace[static_cast<std::size_t>(i)] : -1;
  if (n.condition && n.expr) atom.pos = n.condition->at(n.expr->offset);
  std::vector<std::int32_t> slots;
  collect_slots(rs, i, slots);
  for (auto s : slots) {
    std::string w = value_words(rs, ev, s);
    if (w.empty()) continue;
    atom.values += (atom.values.empty() ? "" : ", ") + w;
  }
  return atom;
}

bool is_group(const Node& n) { return n.kind == NodeKind::kAnd || n.kind == NodeKind::kOr; }

// A 'not' over an and/or group, shown as a group of its own.
const Node* negated_group(const CompiledRuleset& rs, const Node& n) {
  if (n.kind != NodeKind::kNot || n.a < 0) return nullptr;
  const Node& inner = rs.nodes[static_cast<std::size_t>(n.a)];
  return is_group(inner) ? &inner : nullptr;
}

std::int32_t kid(const CompiledRuleset& rs, const Node& n, std::int32_t k) {
  return rs.kids[static_cast<std::size_t>(n.first + k)];
}

void atoms_of(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t i, std::vector<ConditionAtom>& out) {
  if (i < 0) return;
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  if (is_group(n)) {
    for (std::int32_t k = 0; k < n.count; ++k) atoms_of(rs, ev, kid(rs, n, k), out);
    return;
  }
  if (negated_group(rs, n)) {
    atoms_of(rs, ev, n.a, out);
    return;
  }
  out.push_back(atom_of(rs, ev, i));
}

const char* mark(int result) { return result == 1 ? "yes" : result == 0 ? "no " : " - "; }

int result_of(const Evaluator& ev, std::int32_t i) {
  const auto& trace = ev.trace();
  return static_cast<std::size_t>(i) < trace.size() ? trace[static_cast<std::size_t>(i)] : -1;
}

// The condition as a tree: a rule's top-level 'and' reads as a list (every line must hold);
// nested groups are headed "all of:" / "any of:" / "not all of:" / "none of:" with their parts
// indented beneath, each line marked with whether it held.
void tree_text(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t i, const std::string& indent, bool top,
               std::string& out) {
  if (i < 0) return;
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  const Node* group = is_group(n) ? &n : negated_group(rs, n);
  if (!group) {
    const ConditionAtom a = atom_of(rs, ev, i);
    out += indent + mark(a.result) + "  " + a.text;
    if (!a.values.empty()) out += "  (" + a.values + ")";
    out += "\n";
    return;
  }
  const bool negated = group != &n;
  if (top && !negated && n.kind == NodeKind::kAnd) {
    for (std::int32_t k = 0; k < n.count; ++k) tree_text(rs, ev, kid(rs, n, k), indent, false, out);
    return;
  }
  const bool all = group->kind == NodeKind::kAnd;
  out += indent + mark(result_of(ev, i)) + "  " +
         (negated ? (all ? "not all of:" : "none of:") : (all ? "all of:" : "any of:")) + "\n";
  for (std::int32_t k = 0; k < group->count; ++k) tree_text(rs, ev, kid(rs, *group, k), indent + "     ", false, out);
}

std::string tree_text(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t root, const std::string& indent) {
  std::string out;
  tree_text(rs, ev, root, indent, true, out);
  return out;
}

// What a condition that did not hold still needs, following its and/or structure: the parts of an
// 'and' that failed (the ones that held are not needed again), any one of an 'or''s parts.
std::string needs_text(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t i, bool nested) {
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  if (!is_group(n)) {
    const ConditionAtom a = atom_of(rs, ev, i);
    return a.values.empty() ? a.text : a.text + " (" + a.values + ")";
  }
  std::vector<std::int32_t> wanted;
  for (std::int32_t k = 0; k < n.count; ++k) {
    const std::int32_t c = kid(rs, n, k);
    if (n.kind == NodeKind::kAnd && result_of(ev, c) != 0) continue;
    wanted.push_back(c);
  }
  if (wanted.size() == 1) return needs_text(rs, ev, wanted.front(), nested);
  std::vector<std::string> parts;
  for (auto c : wanted) parts.push_back(needs_text(rs, ev, c, true));
  std::string out;
  const char* sep = n.kind == NodeKind::kOr ? " or " : nested ? " and " : "; ";
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  if (n.kind == NodeKind::kOr) return nested ? "(one of: " + out + ")" : "one of: " + out;
  return nested ? "(" + out + ")" : out;
}

// The condition tree as JSON, for machines: {"all"|"any": [...], "held"} or an atom.
nlohmann::json tree_json(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t i) {
  using nlohmann::json;
  if (i < 0) return json(nullptr);
  const Node& n = rs.nodes[static_cast<std::size_t>(i)];
  const Node* group = is_group(n) ? &n : negated_group(rs, n);
  const int res = result_of(ev, i);
  if (!group) {
    const ConditionAtom a = atom_of(rs, ev, i);
    return {{"condition", a.text}, {"held", res == 1}, {"evaluated", res >= 0}, {"values", a.values}};
  }
  json parts = json::array();
  for (std::int32_t k = 0; k < group->count; ++k) parts.push_back(tree_json(rs, ev, kid(rs, *group, k)));
  json out{{group->kind == NodeKind::kAnd ? "all" : "any", parts}, {"held", res == 1}, {"evaluated", res >= 0}};
  if (group != &n) out["not"] = true;
  return out;
}

std::string days_words(double days) {
  if (days < 1.0 / 24) return "just now";
  if (days < 1) return format_points(days * 24) + " hours ago";
  return format_points(days) + (std::round(days) == 1 ? " day ago" : " days ago");
}

std::string duration_words(std::int64_t ms) {
  const double days = static_cast<double>(ms) / kMsPerDay;
  return format_points(days) + (days == 1 ? " day" : " days");
}

const char* sla_status(SlaTimer::Status s) {
  switch (s) {
    case SlaTimer::Status::kStarted: return "starts now";
    case SlaTimer::Status::kRunning: return "running";
    case SlaTimer::Status::kMet: return "met (follow-up recorded)";
    case SlaTimer::Status::kOverdue: return "overdue";
    case SlaTimer::Status::kEscalated: return "overdue and escalated";
  }
  return "";
}

const char* origin_name(TaskOrigin o) {
  switch (o) {
    case TaskOrigin::kQualify: return "hand-off";
    case TaskOrigin::kSla: return "sla";
    case TaskOrigin::kEscalation: return "escalation";
    case TaskOrigin::kDataQuality: return "data quality";
  }
  return "";
}

// The zone a decision's deadlines were computed in.
const TimeZone& zone_of(const CompiledRuleset& rs, const Decision& d) {
  return d.calendar ? d.calendar->zone : rs.ast.settings.calendar.zone;
}

std::string headline(const CompiledRuleset& rs, const Decision& d) {
  const std::string current = d.current_stage >= 0 ? std::string(d.current_stage_name()) : "no stage";
  if (d.returned >= 0) {
    const ReturnRule& r = rs.ast.returns[static_cast<std::size_t>(d.returned)];
    std::string s = "Return to " + r.stage.value + " (from " + current + "), reason " + r.reason + ": rule \"" +
                    r.name + "\" (" + line_of(rs, r.pos) + ").";
    if (d.next_state.cool_off_until)
      s += " It may not qualify again before " +
           format_day(*d.next_state.cool_off_until, zone_of(rs, d)) + ".";
    s += " Times returned: " + std::to_string(d.next_state.recycle_count) + ".";
    return s;
  }
  if (d.transition >= 0) {
    const Transition& t = rs.ast.qualify[static_cast<std::size_t>(d.transition)];
    return "Move from " + current + " to " + t.stage.value + ": rule \"" + t.name + "\" (" + line_of(rs, t.pos) + ").";
  }
  return "Stays in " + current + ".";
}

std::string data_quality_words(const CompiledRuleset& rs, const DataQualityFailure& f) {
  if (f.required) return rs.ast.data_quality.required[static_cast<std::size_t>(f.index)].value + " is missing";
  return rs.ast.data_quality.checks[static_cast<std::size_t>(f.index)].message;
}

}  // namespace

std::vector<ConditionAtom> condition_atoms(const CompiledRuleset& rs, const Evaluator& ev, std::int32_t root) {
  std::vector<ConditionAtom> out;
  atoms_of(rs, ev, root, out);
  return out;
}

std::string short_explanation(const CompiledRuleset& rs, const Decision& d) {
  std::string out;
  for (std::size_t m = 0; m < d.fit.size(); ++m) {
    out += "- " + rs.ast.fit[m].name + " " + format_points(d.fit[m].score) + ":";
    bool first = true;
    for (const auto& c : d.fit[m].contributions) {
      out += (first ? " " : ", ") + rs.ast.fit[m].rules[static_cast<std::size_t>(c.rule)].name + " (" +
             (c.points >= 0 ? "+" : "") + format_points(c.points) + ")";
      first = false;
    }
    if (first) out += " no rule applied";
    out += "\n";
  }
  out += "- engagement " + format_points(d.engagement.score) + ":";
  bool first = true;
  for (const auto& c : d.engagement.contributions) {
    const Signal& s = rs.ast.engagement.signals[static_cast<std::size_t>(c.rule)];
    out += (first ? " " : ", ") + s.name + " (+" + format_points(c.points);
    if (c.age_days >= 0) out += ", " + days_words(c.age_days);
    out += ")";
    first = false;
  }
  if (first) out += " no recent activity";
  out += "\n";
  for (auto i : d.not_ready) out += "- not ready: " + rs.ast.not_ready[static_cast<std::size_t>(i)].name + "\n";
  for (const auto& f : d.data_quality) out += "- data: " + data_quality_words(rs, f) + "\n";
  out += "- decision: " + headline(rs, d) + "\n";
  out += "- rules version " + rs.version.to_string();
  return out;
}

std::string explain_text(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                         const Evaluator& ev) {
  const RulesetAst& ast = rs.ast;
  std::string out;
  const std::string* email = contact.find("email");
  out += "Contact " + (contact.id.empty() ? std::string("(no id)") : contact.id);
  if (email && !email->empty()) out += " <" + *email + ">";
  out += " at " + format_date(d.at_ms) + ", rules " + rs.version.to_string() + "\n\n";
  out += "Decision: " + headline(rs, d) + "\n";
  if (d.returned < 0) {
    // What stood between the contact and each later stage, in the words of the failed conditions.
    for (std::size_t i = 0; i < ast.qualify.size(); ++i) {
      const Transition& t = ast.qualify[i];
      const auto root = rs.qualify_roots[i];
      if (rs.qualify_stage[i] <= d.target_stage || root < 0 || ev.trace()[static_cast<std::size_t>(root)] != 0)
        continue;
      out += "Not moved to " + t.stage.value + " by \"" + t.name + "\": needs " + needs_text(rs, ev, root, false) + ".\n";
    }
  }
  for (auto i : d.blocked) {
    const Transition& t = ast.qualify[static_cast<std::size_t>(i)];
    out += "Held back: \"" + t.name + "\" (" + line_of(rs, t.pos) + ") would move the contact to " + t.stage.value +
           ", but ";
    if (d.in_cool_off && ev.slots().size() > 0) {
      out += "the contact is in its cool-off after being returned to nurture";
      // Held back only while the cool-off lasts; a return in this decision is not a hold.
      if (d.next_state.cool_off_until)
        out += ", until " + format_local(*d.next_state.cool_off_until, zone_of(rs, d));
    } else {
      out += "it is not ready for sales:";
      for (auto n : d.not_ready) out += " " + ast.not_ready[static_cast<std::size_t>(n)].name + ";";
      out.pop_back();
    }
    out += ".\n";
  }

  if (!ast.campaigns.file.empty()) {
    if (d.campaign >= 0) {
      const Campaign& c = ast.campaigns.campaigns[static_cast<std::size_t>(d.campaign)];
      out += "Campaign: \"" + c.name + "\" (" + ast.campaigns.file + ":" + std::to_string(c.pos.line) + "), " +
             (d.relevant ? "a relevant lead" : "not a relevant lead") + ".\n";
      if (rs.relevant_root >= 0) out += tree_text(rs, ev, rs.relevant_root, "          ");
    } else {
      out += "Campaign: none (no campaign's condition holds with its date in the campaign's period).\n";
    }
  }

  for (std::size_t m = 0; m < d.fit.size(); ++m) {
    const FitModel& model = ast.fit[m];
    out += "\nFit";
    if (model.name != "fit") out += " (" + model.name + ")";
    out += ": " + format_points(d.fit[m].score);
    if (model.min || model.max)
      out +=
          " (range " + format_points(model.min.value_or(-1e9)) + " to " + format_points(model.max.value_or(1e9)) + ")";
    if (d.fit[m].raw != d.fit[m].score) out += ", " + format_points(d.fit[m].raw) + " before the range was applied";
    out += "\n";
    for (std::size_t r = 0; r < model.rules.size(); ++r) {
      const FitRule& rule = model.rules[r];
      const auto root = rs.fit_roots[m][r];
      const bool held = root < 0 || ev.trace()[static_cast<std::size_t>(root)] == 1;
      char pts[32];
      std::snprintf(pts, sizeof pts, "%6s",
                    (held ? ((rule.points >= 0 ? "+" : "") + format_points(rule.points)) : std::string("0")).c_str());
      out += std::string("  ") + pts + "  " + rule.name + (held ? "" : " (does not apply)") + "  [" +
             line_of(rs, rule.pos) + "]\n";
      out += tree_text(rs, ev, root, "          ");
    }
  }

  if (ast.engagement.present) {
    out += "\nEngagement: " + format_points(d.engagement.score);
    if (ast.engagement.half_life_ms)
      out += " (points halve every " + duration_words(*ast.engagement.half_life_ms) + ")";
    out += "\n";
    for (std::size_t i = 0; i < ast.engagement.signals.size(); ++i) {
      const Signal& s = ast.engagement.signals[i];
      const Contribution* c = nullptr;
      for (const auto& x : d.engagement.contributions)
        if (x.rule == static_cast<std::int32_t>(i)) c = &x;
      char pts[32];
      std::snprintf(pts, sizeof pts, "%6s", c ? ("+" + format_points(c->points)).c_str() : "0");
      out += std::string("  ") + pts + "  " + s.name;
      if (c) {
        if (c->age_days >= 0) {
          out += ": " + format_points(c->base) + " points, " + days_words(c->age_days);
          if (c->factor < 1)
            out += ", " + std::to_string(static_cast<int>(std::round(c->factor * 100))) + "% left after decay";
        }
      } else {
        out += " (does not count";
        if (rs.signal_date_slots[i] >= 0 &&
            (rs.signal_roots[i] < 0 || ev.trace()[static_cast<std::size_t>(rs.signal_roots[i])] == 1)) {
          const SlotValue& dv = ev.slots()[static_cast<std::size_t>(rs.signal_date_slots[i])];
          if (!dv.has_date)
            out += ": its date " + s.date_property.value + " is not set";
          else if (s.window_ms)
            out += ": older than " + duration_words(*s.window_ms);
        }
        out += ")";
      }
      out += "  [" + line_of(rs, s.pos) + "]\n";
      out += tree_text(rs, ev, rs.signal_roots[i], "          ");
    }
  }

  if (!ast.not_ready.empty()) {
    out += "\nNot ready for sales: " + std::string(d.not_ready.empty() ? "no" : "yes") + "\n";
    for (std::size_t i = 0; i < ast.not_ready.size(); ++i) {
      const NotReadyRule& r = ast.not_ready[i];
      const bool held = ev.trace()[static_cast<std::size_t>(rs.not_ready_roots[i])] == 1;
      out += std::string("  ") + mark(held ? 1 : 0) + "  " + r.name + " (" + r.reason + ")  [" + line_of(rs, r.pos) +
             "]\n";
      if (held) out += tree_text(rs, ev, rs.not_ready_roots[i], "          ");
    }
  }

  if (!d.data_quality.empty()) {
    out += "\nData quality problems:\n";
    for (const auto& f : d.data_quality) out += "  - " + data_quality_words(rs, f) + "\n";
  }

  if (!ast.qualify.empty() || !ast.returns.empty()) {
    out += "\nStage rules (current stage: " + (d.current_stage >= 0 ? std::string(d.current_stage_name()) : "none") +
           ")\n";
    for (std::size_t i = 0; i < ast.returns.size(); ++i) {
      const ReturnRule& r = ast.returns[i];
      const int res = ev.trace()[static_cast<std::size_t>(rs.return_roots[i])];
      out += std::string("  ") + mark(res) + "  return to " + r.stage.value + ": " + r.name + "  [" +
             line_of(rs, r.pos) + "]\n";
      if (res >= 0) out += tree_text(rs, ev, rs.return_roots[i], "          ");
    }
    for (std::size_t i = 0; i < ast.qualify.size(); ++i) {
      const Transition& t = ast.qualify[i];
      const int res = ev.trace()[static_cast<std::size_t>(rs.qualify_roots[i])];
      out += std::string("  ") + mark(res) + "  to " + t.stage.value + ": " + t.name + "  [" + line_of(rs, t.pos) + "]";
      if (res == 1 && rs.qualify_stage[i] <= d.current_stage) out += " (already there or beyond)";
      out += "\n";
      out += tree_text(rs, ev, rs.qualify_roots[i], "          ");
    }
  }

  if (!d.sla.empty()) {
    out += "\nService levels:\n";
    for (const auto& t : d.sla) {
      const SlaRule& s = ast.sla[static_cast<std::size_t>(t.sla)];
      out += "  " + s.name + ": " + sla_status(t.status) + "; follow-up due by " + format_local(t.due_ms, zone_of(rs, d)) +
             " (" + s.within.to_string() + ")";
      if (t.escalate_ms) out += ", escalation at " + format_local(*t.escalate_ms, zone_of(rs, d));
      out += "  [" + line_of(rs, s.pos) + "]\n";
    }
  }

  if (!d.writes.empty() || !d.tasks.empty()) {
    out += "\nActions:\n";
    for (const auto& w : d.writes)
      out += "  set " + w.property + " = " + w.value +
             (w.clear_first ? " (cleared first: HubSpot stages only move forward)" : "") + "\n";
    for (const auto& t : d.tasks) {
      RenderedTask r = render_task(rs, contact, d, t);
      out +=
          "  task (" + r.origin + ", " + r.type + ", " + r.priority + ") \"" + r.subject + "\" for " + r.assignee_role;
      out += r.assignee.empty() ? " (unknown: no owner/manager on record)" : " " + r.assignee;
      out += ", due " + format_local(r.due_ms, zone_of(rs, d)) + "\n";
    }
  }
  return out;
}

nlohmann::json explain_json(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                            const Evaluator& ev) {
  using nlohmann::json;
  const RulesetAst& ast = rs.ast;
  auto rule_ref = [&](const std::string& name, Pos p) {
    return json{{"rule", name}, {"file", ast.file}, {"line", p.line}};
  };
  auto atoms_json = [&](std::int32_t root) {
    json a = json::array();
    for (const auto& atom : condition_atoms(rs, ev, root))
      a.push_back({{"condition", atom.text},
                   {"held", atom.result == 1},
                   {"evaluated", atom.result >= 0},
                   {"values", atom.values},
                   {"line", atom.pos.line},
                   {"column", atom.pos.column}});
    return a;
  };
  json j;
  j["contact"] = contact.id;
  j["at"] = format_date(d.at_ms);
  j["ruleset"] = {{"label", rs.version.label}, {"hash", rs.version.hash}, {"file", ast.file}};
  j["current_stage"] = d.current_stage >= 0 ? json(std::string(d.current_stage_name())) : json(nullptr);
  j["target_stage"] = d.target_stage >= 0 ? json(std::string(d.target_stage_name())) : json(nullptr);
  j["stage_changes"] = d.stage_changes();
  j["summary"] = headline(rs, d);
  if (d.transition >= 0) {
    const Transition& t = ast.qualify[static_cast<std::size_t>(d.transition)];
    j["transition"] = rule_ref(t.name, t.pos);
  }
  if (d.returned >= 0) {
    const ReturnRule& r = ast.returns[static_cast<std::size_t>(d.returned)];
    json ret = rule_ref(r.name, r.pos);
    ret["stage"] = r.stage.value;
    ret["reason"] = r.reason;
    ret["recycle_count"] = d.next_state.recycle_count;
    if (d.next_state.cool_off_until) ret["cool_off_until"] = format_date(*d.next_state.cool_off_until);
    j["return_to_nurture"] = ret;
  }
  j["in_cool_off"] = d.in_cool_off;
  if (!ast.campaigns.file.empty()) {
    if (d.campaign >= 0) {
      const Campaign& c = ast.campaigns.campaigns[static_cast<std::size_t>(d.campaign)];
      j["campaign"] = {{"name", c.name}, {"file", ast.campaigns.file}, {"line", c.pos.line}, {"relevant", d.relevant}};
    } else {
      j["campaign"] = nullptr;
    }
  }
  j["fit"] = json::array();
  for (std::size_t m = 0; m < d.fit.size(); ++m) {
    json model{{"model", ast.fit[m].name}, {"score", d.fit[m].score}, {"raw", d.fit[m].raw}, {"rules", json::array()}};
    for (std::size_t r = 0; r < ast.fit[m].rules.size(); ++r) {
      const FitRule& rule = ast.fit[m].rules[r];
      const auto root = rs.fit_roots[m][r];
      const bool held = root < 0 || ev.trace()[static_cast<std::size_t>(root)] == 1;
      json e = rule_ref(rule.name, rule.pos);
      e["applies"] = held;
      e["points"] = held ? rule.points : 0.0;
      e["conditions"] = atoms_json(root);
      e["condition_tree"] = tree_json(rs, ev, root);
      model["rules"].push_back(e);
    }
    j["fit"].push_back(model);
  }
  json eng{{"score", d.engagement.score}, {"signals", json::array()}};
  for (std::size_t i = 0; i < ast.engagement.signals.size(); ++i) {
    const Signal& s = ast.engagement.signals[i];
    json e = rule_ref(s.name, s.pos);
    e["counts"] = false;
    for (const auto& c : d.engagement.contributions) {
      if (c.rule != static_cast<std::int32_t>(i)) continue;
      e["counts"] = true;
      e["base_points"] = c.base;
      e["points"] = c.points;
      e["decay_factor"] = c.factor;
      if (c.age_days >= 0) e["age_days"] = c.age_days;
    }
    e["conditions"] = atoms_json(rs.signal_roots[i]);
    e["condition_tree"] = tree_json(rs, ev, rs.signal_roots[i]);
    eng["signals"].push_back(e);
  }
  j["engagement"] = eng;
  j["not_ready"] = json::array();
  for (auto i : d.not_ready) {
    const NotReadyRule& r = ast.not_ready[static_cast<std::size_t>(i)];
    json e = rule_ref(r.name, r.pos);
    e["reason"] = r.reason;
    e["conditions"] = atoms_json(rs.not_ready_roots[static_cast<std::size_t>(i)]);
    e["condition_tree"] = tree_json(rs, ev, rs.not_ready_roots[static_cast<std::size_t>(i)]);
    j["not_ready"].push_back(e);
  }
  j["held_back"] = json::array();
  for (auto i : d.blocked) {
    const Transition& t = ast.qualify[static_cast<std::size_t>(i)];
    json e = rule_ref(t.name, t.pos);
    e["stage"] = t.stage.value;
    e["why"] = d.in_cool_off ? "cool_off" : "not_ready";
    if (d.in_cool_off && d.next_state.cool_off_until) e["until"] = format_date(*d.next_state.cool_off_until);
    j["held_back"].push_back(e);
  }
  j["data_quality"] = json::array();
  for (const auto& f : d.data_quality) j["data_quality"].push_back(data_quality_words(rs, f));
  j["sla"] = json::array();
  for (const auto& t : d.sla) {
    const SlaRule& s = ast.sla[static_cast<std::size_t>(t.sla)];
    json e = rule_ref(s.name, s.pos);
    e["status"] = sla_status(t.status);
    e["started_at"] = format_date(t.started_ms);
    e["due_at"] = format_date(t.due_ms);
    if (t.escalate_ms) e["escalate_at"] = format_date(*t.escalate_ms);
    j["sla"].push_back(e);
  }
  j["writes"] = json::array();
  for (const auto& w : d.writes)
    j["writes"].push_back({{"property", w.property}, {"value", w.value}, {"clear_first", w.clear_first}});
  j["tasks"] = json::array();
  for (const auto& t : d.tasks) {
    RenderedTask r = render_task(rs, contact, d, t);
    j["tasks"].push_back({{"origin", r.origin},
                          {"rule", r.rule},
                          {"subject", r.subject},
                          {"body", r.body},
                          {"type", r.type},
                          {"priority", r.priority},
                          {"assignee", r.assignee},
                          {"assignee_role", r.assignee_role},
                          {"due_at", format_date(r.due_ms)}});
  }
  return j;
}

std::vector<std::string> read_properties(const CompiledRuleset& rs) {
  std::vector<std::string> out = rs.properties();
  auto add = [&](const std::string& name) {
    if (name.empty() || std::find(out.begin(), out.end(), name) != out.end()) return;
    static const char* const kBuiltins[] = {"explanation", "fit", "engagement", "stage", "reason", "rule", "owner",
                                            "manager", "due"};
    for (const char* b : kBuiltins)
      if (name == b) return;
    for (const auto& model : rs.ast.fit)
      if (model.name == name) return;
    out.push_back(name);
  };
  auto scan = [&](const std::string& text) {
    std::size_t i = 0;
    while (true) {
      const std::size_t open = text.find("{{", i);
      if (open == std::string::npos) return;
      const std::size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) return;
      std::string name = text.substr(open + 2, close - open - 2);
      while (!name.empty() && name.front() == ' ') name.erase(name.begin());
      while (!name.empty() && name.back() == ' ') name.pop_back();
      add(name);
      i = close + 2;
    }
  };
  auto spec = [&](const std::optional<TaskSpec>& t) {
    if (!t) return;
    scan(t->subject.value);
    scan(t->body.value);
  };
  for (const auto& q : rs.ast.qualify) spec(q.task);
  for (const auto& sla : rs.ast.sla) {
    spec(sla.task);
    spec(sla.escalate_task);
  }
  spec(rs.ast.data_quality.task);
  add("hubspot_owner_id");
  return out;
}

std::string render_template(const std::string& text, const CompiledRuleset& rs, const ContactRecord& contact,
                            const Decision& d, const PlannedTask* t) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{{", i);
    if (open == std::string::npos) break;
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    std::string name = text.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name == "explanation")
      out += short_explanation(rs, d);
    else if (name == "fit")
      out += d.fit.empty() ? "" : format_points(d.fit.front().score);
    else if (name == "engagement")
      out += format_points(d.engagement.score);
    else if (name == "stage")
      out += std::string(d.target_stage_name());
    else if (name == "reason")
      out += d.returned >= 0 ? rs.ast.returns[static_cast<std::size_t>(d.returned)].reason : "";
    else if (name == "rule")
      out += t && t->origin == TaskOrigin::kQualify ? rs.ast.qualify[static_cast<std::size_t>(t->rule)].name : "";
    else if (name == "owner") {
      if (const std::string* o = contact.find("hubspot_owner_id")) out += *o;
    } else if (name == "manager")
      out += t && t->assignee_kind == AssigneeKind::kManager ? t->assignee : "";
    else if (name == "due")
      out += t ? format_local(t->due_ms, zone_of(rs, d)) : "";
    else {
      bool found = false;
      for (std::size_t m = 0; m < rs.ast.fit.size(); ++m)
        if (rs.ast.fit[m].name == name && m < d.fit.size()) {
          out += format_points(d.fit[m].score);
          found = true;
        }
      if (!found)
        if (const std::string* v = contact.find(name)) out += *v;
    }
    i = close + 2;
  }
  out.append(text, i, std::string::npos);
  return out;
}

RenderedTask render_task(const CompiledRuleset& rs, const ContactRecord& contact, const Decision& d,
                         const PlannedTask& t) {
  const TaskSpec& spec = t.spec(rs);
  RenderedTask r;
  r.subject = render_template(spec.subject.value, rs, contact, d, &t);
  r.body = render_template(spec.body.value, rs, contact, d, &t);
  r.type = spec.type;
  r.priority = spec.priority;
  r.assignee = t.assignee;
  r.assignee_role = t.assignee_kind == AssigneeKind::kManager ? "manager"
                    : t.assignee_kind == AssigneeKind::kNamed ? "named owner"
                                                              : "owner";
  r.due_ms = t.due_ms;
  r.origin = origin_name(t.origin);
  switch (t.origin) {
    case TaskOrigin::kQualify: r.rule = rs.ast.qualify[static_cast<std::size_t>(t.rule)].name; break;
    case TaskOrigin::kSla:
    case TaskOrigin::kEscalation: r.rule = rs.ast.sla[static_cast<std::size_t>(t.rule)].name; break;
    case TaskOrigin::kDataQuality: r.rule = "data_quality"; break;
  }
  return r;
}

}  // namespace tandem::rules
