#include "rules/evaluator.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tandem::rules {

const TaskSpec& PlannedTask::spec(const CompiledRuleset& rs) const {
  switch (origin) {
    case TaskOrigin::kQualify: return *rs.ast.qualify[static_cast<std::size_t>(rule)].task;
    case TaskOrigin::kSla: return *rs.ast.sla[static_cast<std::size_t>(rule)].task;
    case TaskOrigin::kEscalation: return *rs.ast.sla[static_cast<std::size_t>(rule)].escalate_task;
    case TaskOrigin::kDataQuality: break;
  }
  return *rs.ast.data_quality.task;
}

std::string_view Decision::target_stage_name() const {
  if (!ruleset || target_stage < 0) return {};
  return ruleset->ast.stages[static_cast<std::size_t>(target_stage)].value;
}
std::string_view Decision::current_stage_name() const {
  if (!ruleset || current_stage < 0) return {};
  return ruleset->ast.stages[static_cast<std::size_t>(current_stage)].value;
}

namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (lower(hay[i]) != lower(needle[0])) continue;
    if (equal_ci(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// A letter or digit for word matching; bytes of non-ASCII UTF-8 characters count as letters, so
// "vp" is not a word of "ÜVP".
bool word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

// `needle` as a whole word (or words) of `hay`, ignoring case: no letter or digit just before or after.
bool contains_word_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty() || needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (lower(hay[i]) != lower(needle[0]) || !equal_ci(hay.substr(i, needle.size()), needle)) continue;
    const bool starts = i == 0 || !word_char(hay[i - 1]) || !word_char(needle.front());
    const std::size_t end = i + needle.size();
    const bool ends = end == hay.size() || !word_char(hay[end]) || !word_char(needle.back());
    if (starts && ends) return true;
  }
  return false;
}

bool text_matches(TextOp op, std::string_view a, std::string_view b) {
  switch (op) {
    case TextOp::kContains: return contains_ci(a, b);
    case TextOp::kContainsWord: return contains_word_ci(a, b);
    case TextOp::kStartsWith: return a.size() >= b.size() && equal_ci(a.substr(0, b.size()), b);
    case TextOp::kEndsWith: return a.size() >= b.size() && equal_ci(a.substr(a.size() - b.size()), b);
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool has_ci(std::string_view values, std::string_view wanted) {
  while (true) {
    const auto semi = values.find(';');
    if (equal_ci(trim(values.substr(0, semi)), wanted)) return true;
    if (semi == std::string_view::npos) return false;
    values.remove_prefix(semi + 1);
  }
}

template <typename T>
bool compare(CmpOp op, T a, T b) {
  switch (op) {
    case CmpOp::kEq: return a == b;
    case CmpOp::kNe: return a != b;
    case CmpOp::kLt: return a < b;
    case CmpOp::kLe: return a <= b;
    case CmpOp::kGt: return a > b;
    case CmpOp::kGe: return a >= b;
  }
  return false;
}

std::string format_score(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
  return buf;
}

}  // namespace

void Evaluator::clear_slots(const CompiledRuleset& rs) {
  if (rs_ != &rs || slots_.size() != rs.slot_names.size()) {
    rs_ = &rs;
    slots_.assign(rs.slot_names.size(), SlotValue{});
  } else {
    std::fill(slots_.begin(), slots_.end(), SlotValue{});
  }
}

void Evaluator::load_slots(const CompiledRuleset& rs, const SlotValue* properties) {
  if (rs_ != &rs || slots_.size() != rs.slot_names.size()) {
    rs_ = &rs;
    slots_.assign(rs.slot_names.size(), SlotValue{});
  }
  std::copy(properties, properties + rs.property_count, slots_.begin());
}

void Evaluator::bind_value(const CompiledRuleset& rs, std::int32_t slot, std::string_view text) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= rs.property_count) return;
  SlotValue& v = slots_[static_cast<std::size_t>(slot)];
  v = SlotValue{};
  text = trim(text);
  if (text.empty()) return;
  v.present = true;
  v.text = text;
  const std::uint8_t needs = rs.slot_needs[static_cast<std::size_t>(slot)];
  if (needs & 1) {
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v.number);
    v.has_number = ec == std::errc{} && p == end && std::isfinite(v.number);
  }
  if (needs & 2) {
    if (auto ms = parse_date_ms(text)) {
      v.has_date = true;
      v.ms = *ms;
    }
  }
}

void Evaluator::bind(const CompiledRuleset& rs, const ContactRecord& contact) {
  clear_slots(rs);
  for (const auto& [name, value] : contact.properties) bind_value(rs, rs.slot_of(name), value);
}

void Evaluator::set_number(std::int32_t slot, double v) {
  if (slot < 0) return;
  SlotValue& s = slots_[static_cast<std::size_t>(slot)];
  s.present = true;
  s.has_number = true;
  s.number = v;
}

void Evaluator::set_date(std::int32_t slot, std::int64_t ms) {
  if (slot < 0) return;
  SlotValue& s = slots_[static_cast<std::size_t>(slot)];
  s.present = true;
  s.has_date = true;
  s.ms = ms;
}

bool Evaluator::number(std::int32_t i, double& out) {
  const Node& n = rs_->nodes[static_cast<std::size_t>(i)];
  switch (n.kind) {
    case NodeKind::kSlot: {
      const SlotValue& s = slots_[static_cast<std::size_t>(n.slot)];
      out = s.number;
      return s.has_number;
    }
    case NodeKind::kNumber: out = n.number; return !std::isnan(n.number);
    case NodeKind::kArith: {
      double a, b;
      if (!number(n.a, a) || !number(n.b, b)) return false;
      out = n.arith == '+' ? a + b : a - b;
      return true;
    }
    default: return false;
  }
}

bool Evaluator::date(std::int32_t i, std::int64_t& out) {
  const Node& n = rs_->nodes[static_cast<std::size_t>(i)];
  switch (n.kind) {
    case NodeKind::kSlot: {
      const SlotValue& s = slots_[static_cast<std::size_t>(n.slot)];
      out = s.ms;
      return s.has_date;
    }
    case NodeKind::kDate: out = n.ms; return true;
    case NodeKind::kDuration: out = n.ms; return true;
    case NodeKind::kArith: {
      std::int64_t a, b;
      if (!date(n.a, a) || !date(n.b, b)) return false;
      out = n.arith == '+' ? a + b : a - b;
      return true;
    }
    default: return false;
  }
}

bool Evaluator::boolean(std::int32_t i, bool& out) {
  const Node& n = rs_->nodes[static_cast<std::size_t>(i)];
  if (n.kind == NodeKind::kNumber) {
    out = n.number != 0;
    return true;
  }
  if (n.kind != NodeKind::kSlot) return false;
  const SlotValue& s = slots_[static_cast<std::size_t>(n.slot)];
  if (!s.present) return false;
  out = s.has_number ? s.number != 0 : (equal_ci(s.text, "true") || equal_ci(s.text, "yes"));
  return true;
}

bool Evaluator::text(std::int32_t i, std::string_view& out) {
  const Node& n = rs_->nodes[static_cast<std::size_t>(i)];
  if (n.kind == NodeKind::kSlot) {
    const SlotValue& s = slots_[static_cast<std::size_t>(n.slot)];
    out = s.text;
    return s.present && !s.text.empty();
  }
  if (n.kind == NodeKind::kString) {
    out = n.text;
    return true;
  }
  return false;
}

bool Evaluator::test(std::int32_t i) {
  if (i < 0) return true;
  const Node& n = rs_->nodes[static_cast<std::size_t>(i)];
  bool r = false;
  switch (n.kind) {
    case NodeKind::kTrue: r = true; break;
    case NodeKind::kFalse: r = false; break;
    case NodeKind::kTruthy: {
      const SlotValue& s = slots_[static_cast<std::size_t>(n.slot)];
      r = s.present && (s.has_number ? s.number != 0 : (equal_ci(s.text, "true") || equal_ci(s.text, "yes")));
      break;
    }
    case NodeKind::kNot: r = !test(n.a); break;
    case NodeKind::kAnd:
      r = true;
      for (std::int32_t k = 0; k < n.count; ++k) {
        if (!test(rs_->kids[static_cast<std::size_t>(n.first + k)])) {
          r = false;
          if (!tracing_) break;
        }
      }
      break;
    case NodeKind::kOr:
      r = false;
      for (std::int32_t k = 0; k < n.count; ++k) {
        if (test(rs_->kids[static_cast<std::size_t>(n.first + k)])) {
          r = true;
          if (!tracing_) break;
        }
      }
      break;
    case NodeKind::kCmpNumber: {
      double a, b;
      r = number(n.a, a) && number(n.b, b) && compare(n.cmp, a, b);
      break;
    }
    case NodeKind::kCmpDate: {
      std::int64_t a, b;
      r = date(n.a, a) && date(n.b, b) && compare(n.cmp, a, b);
      break;
    }
    case NodeKind::kCmpAuto: {
      double x, y;
      std::int64_t dx, dy;
      if (number(n.a, x) && number(n.b, y))
        r = compare(n.cmp, x, y);
      else if (date(n.a, dx) && date(n.b, dy))
        r = compare(n.cmp, dx, dy);
      break;
    }
    case NodeKind::kCmpBool: {
      bool a, b;
      r = boolean(n.a, a) && boolean(n.b, b) && (n.cmp == CmpOp::kEq ? a == b : a != b);
      break;
    }
    case NodeKind::kCmpString: {
      std::string_view a, b;
      if (text(n.a, a) && text(n.b, b)) {
        const bool eq = equal_ci(a, b);
        r = n.cmp == CmpOp::kNe ? !eq : n.cmp == CmpOp::kEq ? eq : false;
      }
      break;
    }
    case NodeKind::kBetweenNumber: {
      double v, lo, hi;
      r = number(n.a, v) && number(n.b, lo) && number(n.c, hi) && v >= lo && v <= hi;
      break;
    }
    case NodeKind::kBetweenDate: {
      std::int64_t v, lo, hi;
      r = date(n.a, v) && date(n.b, lo) && date(n.c, hi) && v >= lo && v <= hi;
      break;
    }
    case NodeKind::kInString: {
      std::string_view v;
      if (text(n.a, v)) {
        bool found = false;
        for (std::int32_t k = 0; k < n.count && !found; ++k) {
          std::string_view item;
          found = text(rs_->kids[static_cast<std::size_t>(n.first + k)], item) && equal_ci(v, item);
        }
        r = found != n.negated;
      }
      break;
    }
    case NodeKind::kDomainIn: {
      // The part after the last '@'; a value without one is not an address (false either way).
      std::string_view v;
      if (text(n.a, v)) {
        const auto at = v.rfind('@');
        if (at != std::string_view::npos && at + 1 < v.size()) {
          const std::string_view host = v.substr(at + 1);
          bool found = false;
          for (std::int32_t k = 0; k < n.count && !found; ++k) {
            std::string_view item;
            if (!text(rs_->kids[static_cast<std::size_t>(n.first + k)], item) || item.empty()) continue;
            found = equal_ci(host, item) || (host.size() > item.size() && host[host.size() - item.size() - 1] == '.' &&
                                             equal_ci(host.substr(host.size() - item.size()), item));
          }
          r = found != n.negated;
        }
      }
      break;
    }
    case NodeKind::kInNumber: {
      double v;
      if (number(n.a, v)) {
        bool found = false;
        for (std::int32_t k = 0; k < n.count && !found; ++k) {
          double item;
          found = number(rs_->kids[static_cast<std::size_t>(n.first + k)], item) && item == v;
        }
        r = found != n.negated;
      }
      break;
    }
    case NodeKind::kText: {
      std::string_view a, b;
      if (text(n.a, a)) {
        if (n.b >= 0) {
          if (text(n.b, b)) r = text_matches(n.text_op, a, b);
        } else {
          // "any of": true when one item matches; an item without a value does not.
          bool found = false;
          for (std::int32_t k = 0; k < n.count && !found; ++k)
            found = text(rs_->kids[static_cast<std::size_t>(n.first + k)], b) && text_matches(n.text_op, a, b);
          r = found;
        }
      }
      break;
    }
    case NodeKind::kHas: {
      std::string_view a, b;
      r = text(n.a, a) && text(n.b, b) && has_ci(a, b);
      break;
    }
    case NodeKind::kMissing: {
      const bool missing = n.slot < 0 || !slots_[static_cast<std::size_t>(n.slot)].present;
      r = n.negated ? !missing : missing;
      break;
    }
    case NodeKind::kWithin: {
      std::int64_t d;
      const std::int64_t now = slots_[static_cast<std::size_t>(rs_->builtins.now)].ms;
      if (date(n.a, d)) {
        const bool inside = d >= now - n.ms && d <= now;
        r = n.negated ? !inside : inside;
      }
      break;
    }
    default: r = false; break;
  }
  if (tracing_) trace_[static_cast<std::size_t>(i)] = r ? 1 : 0;
  return r;
}

void Evaluator::evaluate(const CompiledRuleset& rs, const ContactRecord& contact, const ContactState& state,
                         std::int64_t at_ms, Decision& out, const EvalOptions& options) {
  bind(rs, contact);
  evaluate_slots(rs, &contact, state, at_ms, out, options);
}

void Evaluator::evaluate_slots(const CompiledRuleset& rs, const ContactRecord* contact, const ContactState& state,
                               std::int64_t at_ms, Decision& out, const EvalOptions& options) {
  (void)contact;
  rs_ = &rs;
  if (slots_.size() != rs.slot_names.size()) slots_.resize(rs.slot_names.size());
  tracing_ = options.trace;
  if (tracing_) trace_.assign(rs.nodes.size(), -1);
  const RulesetAst& ast = rs.ast;
  const BuiltinSlots& b = rs.builtins;
  const BusinessCalendar& calendar = options.calendar ? *options.calendar : ast.settings.calendar;

  out.ruleset = &rs;
  out.calendar = &calendar;
  out.at_ms = at_ms;
  out.transition = -1;
  out.returned = -1;
  out.not_ready.clear();
  out.blocked.clear();
  out.data_quality.clear();
  out.sla.clear();
  out.writes.clear();
  out.tasks.clear();

  // Built-ins known before any rule runs.
  for (std::size_t i = rs.property_count; i < slots_.size(); ++i) slots_[i] = SlotValue{};
  set_date(b.now, at_ms);
  set_number(b.recycle_count, state.recycle_count);
  out.in_cool_off = state.cool_off_until && *state.cool_off_until > at_ms;
  set_number(b.in_cool_off, out.in_cool_off ? 1 : 0);

  // Data quality.
  for (std::size_t i = 0; i < rs.required_slots.size(); ++i)
    if (!slots_[static_cast<std::size_t>(rs.required_slots[i])].present)
      out.data_quality.push_back({true, static_cast<std::int32_t>(i)});
  for (std::size_t i = 0; i < rs.check_roots.size(); ++i)
    if (!test(rs.check_roots[i])) out.data_quality.push_back({false, static_cast<std::int32_t>(i)});
  set_number(b.data_ok, out.data_quality.empty() ? 1 : 0);

  // Fit models.
  out.fit.resize(ast.fit.size());
  for (std::size_t m = 0; m < ast.fit.size(); ++m) {
    ScoreResult& score = out.fit[m];
    score.contributions.clear();
    score.raw = 0;
    const auto& roots = rs.fit_roots[m];
    for (std::size_t r = 0; r < roots.size(); ++r) {
      if (!test(roots[r])) continue;
      const double p = ast.fit[m].rules[r].points;
      score.raw += p;
      score.contributions.push_back({static_cast<std::int32_t>(r), p, p, -1, 1});
    }
    score.score = score.raw;
    if (ast.fit[m].min) score.score = std::max(score.score, *ast.fit[m].min);
    if (ast.fit[m].max) score.score = std::min(score.score, *ast.fit[m].max);
    set_number(b.fit[m], score.score);
  }

  // Engagement with decay, computed from signal dates against the evaluation time.
  out.engagement.contributions.clear();
  out.engagement.raw = 0;
  for (std::size_t i = 0; i < ast.engagement.signals.size(); ++i) {
    const Signal& sig = ast.engagement.signals[i];
    if (!test(rs.signal_roots[i])) continue;
    double base = sig.points;
    if (rs.signal_per_slots[i] >= 0) {
      const SlotValue& per = slots_[static_cast<std::size_t>(rs.signal_per_slots[i])];
      if (!per.has_number || per.number <= 0) continue;
      base = sig.points * per.number;
    }
    if (sig.max_points) base = std::min(base, *sig.max_points);
    Contribution c{static_cast<std::int32_t>(i), base, base, -1, 1};
    if (rs.signal_date_slots[i] >= 0) {
      const SlotValue& d = slots_[static_cast<std::size_t>(rs.signal_date_slots[i])];
      if (!d.has_date) continue;  // an undated signal cannot be aged: it does not count
      const double age_ms = static_cast<double>(std::max<std::int64_t>(0, at_ms - d.ms));
      c.age_days = age_ms / static_cast<double>(kMsPerDay);
      if (sig.window_ms && age_ms > static_cast<double>(*sig.window_ms)) continue;
      const auto half_life = sig.half_life_ms ? sig.half_life_ms : ast.engagement.half_life_ms;
      if (half_life) c.factor = std::exp2(-age_ms / static_cast<double>(*half_life));
      c.points = base * c.factor;
    }
    out.engagement.raw += c.points;
    out.engagement.contributions.push_back(c);
  }
  out.engagement.score = std::max(0.0, out.engagement.raw);
  if (ast.engagement.max) out.engagement.score = std::min(out.engagement.score, *ast.engagement.max);
  set_number(b.engagement, out.engagement.score);

  // Not ready.
  for (std::size_t i = 0; i < rs.not_ready_roots.size(); ++i)
    if (test(rs.not_ready_roots[i])) out.not_ready.push_back(static_cast<std::int32_t>(i));
  set_number(b.not_ready, out.not_ready.empty() ? 0 : 1);

  // Campaign: the first in the campaigns file whose condition holds and whose period holds the
  // contact's date property; a relevant lead of it when the file's `relevant` holds too.
  out.campaign = -1;
  out.relevant = false;
  for (std::size_t i = 0; i < rs.campaign_roots.size(); ++i) {
    const SlotValue& d = slots_[static_cast<std::size_t>(rs.campaign_date_slots[i])];
    const bool in_period = d.has_date && d.ms >= rs.campaign_start_ms[i] && d.ms < rs.campaign_end_ms[i];
    if (!in_period && !tracing_) continue;
    if (test(rs.campaign_roots[i]) && in_period && out.campaign < 0) {
      out.campaign = static_cast<std::int32_t>(i);
      if (!tracing_) break;
    }
  }
  if (out.campaign >= 0) out.relevant = rs.relevant_root < 0 || test(rs.relevant_root);

  // Current stage.
  out.current_stage = -1;
  if (rs.lifecycle_slot >= 0) {
    const SlotValue& s = slots_[static_cast<std::size_t>(rs.lifecycle_slot)];
    if (s.present)
      for (std::size_t k = 0; k < ast.stages.size(); ++k)
        if (equal_ci(ast.stages[k].value, s.text)) out.current_stage = static_cast<std::int32_t>(k);
  }
  out.target_stage = out.current_stage;

  // Return to nurture first: a returned lead does not qualify in the same decision.
  for (std::size_t i = 0; i < rs.return_roots.size(); ++i) {
    const std::int32_t to = rs.return_stage[i];
    if (to < 0 || out.current_stage <= to) {
      if (tracing_) test(rs.return_roots[i]);
      continue;
    }
    if (test(rs.return_roots[i]) && out.returned < 0) {
      out.returned = static_cast<std::int32_t>(i);
      out.target_stage = to;
      if (!tracing_) break;
    }
  }

  // Qualify: the highest stage any unblocked rule reaches; ties go to the first rule in the file.
  for (std::size_t i = 0; i < rs.qualify_roots.size(); ++i) {
    const std::int32_t to = rs.qualify_stage[i];
    const bool forward = to > out.current_stage;
    if (!forward && !tracing_) continue;
    if (!test(rs.qualify_roots[i]) || !forward || out.returned >= 0) continue;
    const bool held_back = (!out.not_ready.empty() && !ast.qualify[i].ignore_not_ready) || out.in_cool_off;
    if (held_back) {
      out.blocked.push_back(static_cast<std::int32_t>(i));
      continue;
    }
    if (out.transition < 0 || to > rs.qualify_stage[static_cast<std::size_t>(out.transition)]) {
      out.transition = static_cast<std::int32_t>(i);
      out.target_stage = to;
    }
  }

  // SLA timers of the stage the contact is in (or enters now).
  for (std::size_t i = 0; i < ast.sla.size(); ++i) {
    const std::int32_t stage = rs.sla_stage[i];
    if (stage < 0 || stage != out.target_stage) continue;
    const SlaRule& sla = ast.sla[i];
    SlaTimer timer;
    timer.sla = static_cast<std::int32_t>(i);
    if (out.stage_changes()) {
      timer.started_ms = at_ms;
      timer.status = SlaTimer::Status::kStarted;
    } else if (state.stage_entered_at) {
      timer.started_ms = *state.stage_entered_at;
      timer.status = SlaTimer::Status::kRunning;
    } else {
      continue;  // no record of when the stage was entered: Tandem did not start this timer
    }
    timer.due_ms = calendar.add(timer.started_ms, sla.within);
    if (sla.escalate_after) timer.escalate_ms = calendar.add(timer.started_ms, *sla.escalate_after);
    if (timer.status == SlaTimer::Status::kRunning) {
      set_date(b.started_at, timer.started_ms);
      if (test(rs.sla_roots[i]))
        timer.status = SlaTimer::Status::kMet;
      else if (timer.escalate_ms && at_ms >= *timer.escalate_ms)
        timer.status = SlaTimer::Status::kEscalated;
      else if (at_ms >= timer.due_ms)
        timer.status = SlaTimer::Status::kOverdue;
    }
    out.sla.push_back(timer);
  }

  if (!options.plan_actions) return;

  // ---- actions ----
  out.next_state = state;
  std::string_view owner;
  if (rs.owner_slot >= 0) owner = slots_[static_cast<std::size_t>(rs.owner_slot)].text;
  auto assignee = [&](AssigneeKind kind, const TaskSpec& spec) -> std::pair<AssigneeKind, std::string> {
    if (spec.assign != AssigneeKind::kDefault) kind = spec.assign;
    if (kind == AssigneeKind::kNamed) return {kind, spec.named_owner};
    if (kind == AssigneeKind::kOwner) return {kind, std::string(owner)};
    auto it = ast.settings.managers.find(std::string(owner));
    return {AssigneeKind::kManager, it != ast.settings.managers.end() ? it->second : ast.settings.default_manager};
  };
  auto plan = [&](TaskOrigin origin, std::int32_t rule, const TaskSpec& spec, AssigneeKind default_kind) {
    PlannedTask t;
    t.origin = origin;
    t.rule = rule;
    auto [kind, who] = assignee(default_kind, spec);
    t.assignee_kind = kind;
    t.assignee = std::move(who);
    t.due_ms = calendar.add(at_ms, spec.due.value_or(DurationSpec{1, DurationSpec::Unit::kDays, true}));
    out.tasks.push_back(std::move(t));
  };
  const std::string& lifecycle = rs.slot_names[static_cast<std::size_t>(rs.lifecycle_slot)];
  const std::string& lead_status = rs.slot_names[static_cast<std::size_t>(rs.lead_status_slot)];

  if (out.returned >= 0) {
    const ReturnRule& r = ast.returns[static_cast<std::size_t>(out.returned)];
    out.writes.push_back({lifecycle, r.stage.value, true});
    if (!r.lead_status.empty()) out.writes.push_back({lead_status, r.lead_status, false});
    // Saturating: a count read from a file may be anything an int holds.
    out.next_state.recycle_count =
        state.recycle_count < std::numeric_limits<std::int32_t>::max() ? state.recycle_count + 1 : state.recycle_count;
    out.next_state.last_return_reason = r.reason;
    out.next_state.stage_entered_at = at_ms;
    if (r.cool_off) out.next_state.cool_off_until = calendar.add(at_ms, *r.cool_off);
    out.next_state.fired.clear();
  } else if (out.transition >= 0) {
    const Transition& t = ast.qualify[static_cast<std::size_t>(out.transition)];
    out.writes.push_back({lifecycle, t.stage.value, false});
    if (!t.lead_status.empty()) out.writes.push_back({lead_status, t.lead_status, false});
    if (t.task) {
      const HandoffMode mode = t.handoff.value_or(ast.settings.handoff);
      plan(TaskOrigin::kQualify, out.transition, *t.task,
           mode == HandoffMode::kManagerReview ? AssigneeKind::kManager : AssigneeKind::kOwner);
    }
    out.next_state.stage_entered_at = at_ms;
    out.next_state.fired.clear();
  }

  for (const SlaTimer& timer : out.sla) {
    const SlaRule& sla = ast.sla[static_cast<std::size_t>(timer.sla)];
    auto fired = [&](const std::string& key) {
      return std::find(out.next_state.fired.begin(), out.next_state.fired.end(), key) != out.next_state.fired.end();
    };
    if (timer.status == SlaTimer::Status::kOverdue || timer.status == SlaTimer::Status::kEscalated) {
      if (sla.task && !fired(sla.name)) {
        plan(TaskOrigin::kSla, timer.sla, *sla.task, AssigneeKind::kOwner);
        out.next_state.fired.push_back(sla.name);
      }
    }
    if (timer.status == SlaTimer::Status::kEscalated && sla.escalate_task && !fired(sla.name + "/escalate")) {
      plan(TaskOrigin::kEscalation, timer.sla, *sla.escalate_task, AssigneeKind::kManager);
      out.next_state.fired.push_back(sla.name + "/escalate");
    }
  }

  if (!out.data_quality.empty() && ast.data_quality.task &&
      std::find(state.fired.begin(), state.fired.end(), "data_quality") == state.fired.end()) {
    plan(TaskOrigin::kDataQuality, -1, *ast.data_quality.task, AssigneeKind::kOwner);
    out.next_state.fired.push_back("data_quality");
  }

  auto write_score = [&](std::int32_t slot, double value) {
    if (slot < 0) return;
    std::string v = format_score(value);
    const SlotValue& cur = slots_[static_cast<std::size_t>(slot)];
    if (!cur.present || cur.text != v)
      out.writes.push_back({rs.slot_names[static_cast<std::size_t>(slot)], std::move(v), false});
  };
  if (!out.fit.empty()) write_score(rs.fit_score_slot, out.fit.front().score);
  write_score(rs.engagement_score_slot, out.engagement.score);
}

}  // namespace tandem::rules
