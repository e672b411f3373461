#include "rules/simulate.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "rules/contacts.hpp"
#include "rules/evaluator.hpp"
#include "rules/explain.hpp"

namespace tandem::rules {
namespace {

std::string quoted_rules(const CompiledRuleset& rs, const std::vector<std::int32_t>& qualify) {
  std::string s = qualify.size() == 1 ? "rule " : "rules ";
  for (std::size_t i = 0; i < qualify.size(); ++i)
    s += (i ? ", \"" : "\"") + rs.ast.qualify[static_cast<std::size_t>(qualify[i])].name + "\"";
  return s;
}

// The rule that decided, by name: the return rule, the qualify rule, or the qualify rules that held
// but were held back (and what held them).
std::string why(const CompiledRuleset& rs, const Decision& d) {
  if (d.returned >= 0) return "returned by rule \"" + rs.ast.returns[static_cast<std::size_t>(d.returned)].name + "\"";
  if (d.transition >= 0) return "rule \"" + rs.ast.qualify[static_cast<std::size_t>(d.transition)].name + "\"";
  if (!d.blocked.empty()) {
    const std::string held = quoted_rules(rs, d.blocked) + " held back: ";
    if (d.in_cool_off) return held + "cool-off";
    std::string s = held + "not ready (";
    for (std::size_t i = 0; i < d.not_ready.size(); ++i)
      s += (i ? ", " : "") + rs.ast.not_ready[static_cast<std::size_t>(d.not_ready[i])].reason;
    return s + ")";
  }
  // A rule whose condition asks "not not_ready" does not hold rather than being held back: the
  // reasons still say why the contact stays.
  if (!d.not_ready.empty()) {
    std::string s = "no rule applies, not ready: ";
    for (std::size_t i = 0; i < d.not_ready.size(); ++i)
      s += (i ? ", " : "") + rs.ast.not_ready[static_cast<std::size_t>(d.not_ready[i])].reason;
    return s;
  }
  return "no rule applies";
}

std::string stage_name(const Decision& d) {
  return d.target_stage >= 0 ? std::string(d.target_stage_name()) : std::string("(no stage)");
}

void count(const CompiledRuleset& rs, const Decision& d, SimulateSummary& s) {
  if (!rs.ast.campaigns.file.empty()) {
    s.campaigns.resize(rs.ast.campaigns.campaigns.size() + 1);
    auto& c = s.campaigns[d.campaign >= 0 ? static_cast<std::size_t>(d.campaign) : s.campaigns.size() - 1];
    ++c.contacts;
    if (d.relevant) ++c.relevant;
    c.at_or_beyond.resize(rs.ast.stages.size());
    // "other" is no step of the funnel, wherever the stage list puts it.
    if (d.target_stage >= 0 && d.target_stage_name() != "other")
      for (std::int32_t k = 0; k <= d.target_stage && k < static_cast<std::int32_t>(c.at_or_beyond.size()); ++k)
        ++c.at_or_beyond[static_cast<std::size_t>(k)];
  }
  ++s.contacts;
  ++s.stages[stage_name(d)];
  if (d.stage_changes()) ++s.stage_moves;
  if (d.transition >= 0) ++s.rules[rs.ast.qualify[static_cast<std::size_t>(d.transition)].name];
  if (d.returned >= 0) ++s.rules[rs.ast.returns[static_cast<std::size_t>(d.returned)].name];
  for (auto i : d.not_ready) ++s.not_ready[rs.ast.not_ready[static_cast<std::size_t>(i)].reason];
  if (!d.data_quality.empty()) ++s.data_quality_failures;
  for (const auto& t : d.tasks) {
    static const char* names[] = {"hand-off", "sla", "escalation", "data quality"};
    ++s.tasks[names[static_cast<int>(t.origin)]];
    ++s.task_total;
  }
}

// Against the targets: the funnel's stages are HubSpot's lifecycle stages when the rules use them
// (a target of MQLs counts contacts at marketingqualifiedlead or beyond).
std::string campaign_table(const CompiledRuleset& rs, const SimulateSummary& s) {
  const CampaignsAst& ca = rs.ast.campaigns;
  const std::vector<FunnelStage> columns = funnel_stages(rs);
  auto cell = [](std::size_t n, const std::optional<double>& target) {
    char buf[64];
    if (target && *target > 0)
      std::snprintf(buf, sizeof buf, "%zu/%.0f (%.0f%%)", n, *target, 100.0 * static_cast<double>(n) / *target);
    else
      std::snprintf(buf, sizeof buf, "%zu", n);
    return std::string(buf);
  };
  std::string out = "\nCampaigns (" + ca.file + "; contacts at the stage or beyond, against the targets):\n";
  char buf[512];
  std::string head;
  std::snprintf(buf, sizeof buf, "  %-28s %10s %18s", "campaign", "contacts", "relevant leads");
  head = buf;
  for (const auto& c : columns) {
    std::snprintf(buf, sizeof buf, " %18s", c.title);
    head += buf;
  }
  out += head + "\n";
  for (std::size_t i = 0; i < s.campaigns.size(); ++i) {
    const auto& counts = s.campaigns[i];
    const bool none = i == ca.campaigns.size();
    if (none && counts.contacts == 0) continue;
    const CampaignTargets no_targets;
    const CampaignTargets& t = none ? no_targets : ca.campaigns[i].targets;
    const std::string name = none ? "(no campaign)" : ca.campaigns[i].name;
    std::snprintf(buf, sizeof buf, "  %-28s %10zu %18s", name.c_str(), counts.contacts,
                  cell(counts.relevant, t.relevant_leads).c_str());
    std::string row = buf;
    for (const auto& c : columns) {
      const std::size_t n =
          static_cast<std::size_t>(c.stage) < counts.at_or_beyond.size() ? counts.at_or_beyond[static_cast<std::size_t>(c.stage)] : 0;
      std::snprintf(buf, sizeof buf, " %18s", cell(n, t.*c.target).c_str());
      row += buf;
    }
    out += row + "\n";
  }
  return out;
}

}  // namespace

SimulateResult simulate(const CompiledRuleset& rules, const CompiledRuleset* baseline, const SimulateOptions& options) {
  SimulateResult result;
  result.has_baseline = baseline != nullptr;
  ContactReader reader;
  if (!reader.open(options.contacts, result.error)) return result;
  ContactRecord contact;
  ContactState state;
  Decision now_d, old_d;
  Evaluator now_ev, old_ev;
  std::string error;
  std::uint64_t next_report = 0;
  const std::uint64_t step = std::max<std::uint64_t>(reader.size() / 200, 1);
  while (reader.next(contact, state, error)) {
    if (!error.empty()) {
      ++result.current.malformed;
      if (result.current.errors.size() < options.max_listed_errors) result.current.errors.push_back(error);
      continue;
    }
    if (reader.had_state()) ++result.current.with_state;
    now_ev.evaluate(rules, contact, state, options.at_ms, now_d);
    count(rules, now_d, result.current);
    if (baseline) {
      old_ev.evaluate(*baseline, contact, state, options.at_ms, old_d);
      count(*baseline, old_d, result.baseline);
      if (old_d.target_stage_name() != now_d.target_stage_name() ||
          (old_d.target_stage < 0) != (now_d.target_stage < 0)) {
        ++result.changed;
        const std::string* email = contact.find("email");
        if (!email) email = contact.find("Email");  // HubSpot's CSV export names columns by label
        StageChange c{contact.id,        email ? *email : std::string(), stage_name(old_d),
                      stage_name(now_d), why(*baseline, old_d),          why(rules, now_d)};
        ++result.change_groups[c.before + " -> " + c.after + ": now " + c.why_after + ", before " + c.why_before];
        if (result.changes.size() < options.max_listed_changes) result.changes.push_back(std::move(c));
      }
    }
    if (options.progress && result.current.contacts % 4096 == 0) {
      const auto pos = reader.position();
      if (pos >= next_report) {
        options.progress(pos, reader.size());
        next_report = pos + step;
      }
    }
  }
  if (options.progress) options.progress(reader.size(), reader.size());
  return result;
}

std::string format_simulation(const CompiledRuleset& rules, const CompiledRuleset* baseline, const SimulateResult& r) {
  std::string out;
  char buf[256];
  auto line = [&](const std::string& label, std::size_t n, std::size_t total, const std::string& extra = {}) {
    const double pct = total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0;
    std::snprintf(buf, sizeof buf, "  %-28s %10zu  %5.1f%%%s\n", label.c_str(), n, pct, extra.c_str());
    out += buf;
  };
  out += "Rules " + rules.version.to_string() + " over " + std::to_string(r.current.contacts) + " contacts";
  if (r.current.with_state) out += ", " + std::to_string(r.current.with_state) + " with Tandem's stored state";
  if (r.current.malformed) {
    // The count covers every malformed line; only the first few are kept, and the text says so.
    out += " (" + std::to_string(r.current.malformed) +
           (r.current.malformed == 1 ? " malformed line" : " malformed lines") + " skipped";
    if (r.current.errors.size() < r.current.malformed)
      out += ", the first " + std::to_string(r.current.errors.size()) + " listed";
    out += ")";
  }
  out += "\n";
  for (const auto& e : r.current.errors) out += "  skipped " + e + "\n";
  out += "\nStages after this evaluation:\n";
  auto stage_rows = [&](const CompiledRuleset& rs, const SimulateSummary& s, const SimulateSummary* other) {
    std::vector<std::string> order;
    for (const auto& st : rs.ast.stages) order.push_back(st.value);
    order.push_back("(no stage)");
    for (const auto& [k, v] : s.stages)
      if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
    for (const auto& name : order) {
      auto it = s.stages.find(name);
      const std::size_t n = it == s.stages.end() ? 0 : it->second;
      std::string extra;
      if (other) {
        auto o = other->stages.find(name);
        const long long before = o == other->stages.end() ? 0 : static_cast<long long>(o->second);
        if (before == 0 && n == 0) continue;
        std::snprintf(buf, sizeof buf, "  (baseline %lld, %+lld)", before, static_cast<long long>(n) - before);
        extra = buf;
      } else if (n == 0) {
        continue;
      }
      line(name, n, s.contacts, extra);
    }
  };
  stage_rows(rules, r.current, r.has_baseline ? &r.baseline : nullptr);
  out += "\nContacts that would move: " + std::to_string(r.current.stage_moves) + "\n";
  for (const auto& [rule, n] : r.current.rules) line(rule, n, r.current.contacts);
  out += "\nTasks that would be created: " + std::to_string(r.current.task_total);
  if (r.has_baseline) out += " (baseline " + std::to_string(r.baseline.task_total) + ")";
  out += "\n";
  for (const auto& [origin, n] : r.current.tasks) line(origin, n, r.current.contacts);
  if (!r.current.not_ready.empty()) {
    out += "\nNot ready for sales (reason, contacts):\n";
    for (const auto& [reason, n] : r.current.not_ready) line(reason, n, r.current.contacts);
  }
  out += "\nContacts with data-quality problems: " + std::to_string(r.current.data_quality_failures) + "\n";
  if (!r.current.campaigns.empty()) out += campaign_table(rules, r.current);
  if (r.has_baseline) {
    out += "\nCompared with the baseline " + baseline->version.to_string() + ": " + std::to_string(r.changed) +
           " contacts change stage\n";
    std::vector<std::pair<std::size_t, std::string>> groups;
    for (const auto& [k, v] : r.change_groups) groups.emplace_back(v, k);
    std::sort(groups.begin(), groups.end(),
              [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    for (const auto& [n, k] : groups) {
      std::snprintf(buf, sizeof buf, "  %10zu  ", n);
      out += buf + k + "\n";
    }
    if (!r.changes.empty()) {
      if (r.changes.size() < r.changed)
        out += "\nThe first " + std::to_string(r.changes.size()) + " of the " + std::to_string(r.changed) +
               " changed contacts:\n";
      else
        out += "\nChanged contacts:\n";
      for (const auto& c : r.changes)
        out += "  " + (c.contact.empty() ? std::string("(no id)") : c.contact) +
               (c.email.empty() ? std::string() : " (" + c.email + ")") + ": " + c.before + " -> " + c.after +
               " (now " + c.why_after + "; before " + c.why_before + ")\n";
    }
  }
  return out;
}

}  // namespace tandem::rules
