#include "scoreboard/figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace tandem::scoreboard {
namespace {

constexpr double kMsPerDay = 86'400'000.0;

// The value at quantile q of `v` (nearest rank); nullopt when empty. Reorders `v`.
std::optional<double> quantile(std::vector<double>& v, double q) {
  if (v.empty()) return std::nullopt;
  const auto k = static_cast<std::size_t>(std::max(0.0, std::ceil(q * static_cast<double>(v.size())) - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

struct StageAccumulator {
  std::vector<std::size_t> entered, converted;
  std::vector<std::vector<double>> stays;  // days
  explicit StageAccumulator(std::size_t n) : entered(n), converted(n), stays(n) {}
  std::vector<StageFigures> figures(const rules::CompiledRuleset& rs) {
    std::vector<StageFigures> out;
    for (std::size_t k = 0; k < entered.size(); ++k) {
      StageFigures f;
      f.stage = rs.ast.stages[k].value;
      f.entered = entered[k];
      if (entered[k] && k + 1 < entered.size())
        f.conversion_to_next = static_cast<double>(converted[k]) / static_cast<double>(entered[k]);
      f.stays = stays[k].size();
      f.median_days = quantile(stays[k], 0.5);
      f.p90_days = quantile(stays[k], 0.9);
      out.push_back(std::move(f));
    }
    return out;
  }
};

std::string number(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

Figures compute(const rules::CompiledRuleset& rs, std::int64_t portal, const std::vector<ContactRow>& contacts,
                std::vector<TransitionRow> transitions) {
  Figures f;
  f.portal = portal;
  f.currency = rs.ast.campaigns.currency;
  f.contacts = contacts.size();
  const std::size_t stage_count = rs.ast.stages.size();
  std::unordered_map<std::string, std::int32_t> rank;
  // "other" is where HubSpot puts contacts that fit no stage: no step of the funnel, whatever its
  // place in the list.
  for (std::size_t k = 0; k < stage_count; ++k)
    if (rs.ast.stages[k].value != "other") rank[rs.ast.stages[k].value] = static_cast<std::int32_t>(k);
  auto rank_of = [&](const std::string& s) {
    auto it = rank.find(s);
    return it == rank.end() ? -1 : it->second;
  };
  // Stable: moves in the same millisecond keep the order they were recorded in.
  std::stable_sort(transitions.begin(), transitions.end(), [](const TransitionRow& a, const TransitionRow& b) {
    return a.contact != b.contact ? a.contact < b.contact : a.at < b.at;
  });
  // Each contact's transitions: [first, last) in `transitions`.
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> history;
  for (std::size_t i = 0; i < transitions.size();) {
    std::size_t j = i;
    while (j < transitions.size() && transitions[j].contact == transitions[i].contact) ++j;
    history[transitions[i].contact] = {i, j};
    i = j;
  }

  const auto& campaigns = rs.ast.campaigns.campaigns;
  const std::vector<rules::FunnelStage> funnel = rules::funnel_stages(rs);
  std::map<std::string, std::size_t> campaign_index;
  for (std::size_t i = 0; i < campaigns.size(); ++i) campaign_index[campaigns[i].name] = i;
  f.campaigns.resize(campaigns.size() + 1);
  for (std::size_t i = 0; i <= campaigns.size(); ++i) {
    CampaignFigures& c = f.campaigns[i];
    c.name = i < campaigns.size() ? campaigns[i].name : "(no campaign)";
    if (i < campaigns.size()) {
      c.relevant_target = campaigns[i].targets.relevant_leads;
      for (const auto& line : campaigns[i].budget) c.cost += line.cost;
    }
    for (const auto& step : funnel) {
      FunnelStep s;
      s.stage = step.name;
      s.title = step.title;
      s.unit = step.unit;
      if (i < campaigns.size()) s.target = campaigns[i].targets.*step.target;
      c.funnel.push_back(std::move(s));
    }
  }
  StageAccumulator all(stage_count), recycled(stage_count);

  std::vector<char> was_at(stage_count);
  for (const ContactRow& row : contacts) {
    // The stages the contact was at, and the highest it reached.
    std::fill(was_at.begin(), was_at.end(), 0);
    std::int32_t reached = rank_of(row.stage);
    if (reached >= 0) was_at[static_cast<std::size_t>(reached)] = 1;
    // Every contact counts in the main table (a lead sales returned is an MQL that did not move
    // on); recycled ones are also shown apart.
    const bool is_recycled = row.recycle_count > 0;
    if (auto h = history.find(row.id); h != history.end()) {
      const auto [begin, end] = h->second;
      if (const auto r = rank_of(transitions[begin].from); r >= 0) was_at[static_cast<std::size_t>(r)] = 1;
      for (std::size_t t = begin; t < end; ++t) {
        const auto r = rank_of(transitions[t].to);
        if (r < 0) continue;
        was_at[static_cast<std::size_t>(r)] = 1;
        reached = std::max(reached, r);
        // A completed stay: entered at this transition, left at the next.
        if (t + 1 < end && transitions[t + 1].at >= transitions[t].at) {
          const double days = static_cast<double>(transitions[t + 1].at - transitions[t].at) / kMsPerDay;
          all.stays[static_cast<std::size_t>(r)].push_back(days);
          if (is_recycled) recycled.stays[static_cast<std::size_t>(r)].push_back(days);
        }
      }
    }
    for (std::size_t k = 0; k < stage_count; ++k) {
      if (!was_at[k]) continue;
      const bool moved_on = reached > static_cast<std::int32_t>(k);
      ++all.entered[k];
      if (moved_on) ++all.converted[k];
      if (is_recycled) {
        ++recycled.entered[k];
        if (moved_on) ++recycled.converted[k];
      }
    }

    auto ci = campaign_index.find(row.campaign);
    CampaignFigures& c = f.campaigns[ci == campaign_index.end() ? campaigns.size() : ci->second];
    ++c.contacts;
    if (row.relevant) ++c.relevant;
    if (row.recycle_count > 0) ++c.recycled;
    for (std::size_t s = 0; s < funnel.size(); ++s)
      if (reached >= funnel[s].stage) ++c.funnel[s].reached;
  }
  for (auto& c : f.campaigns) {
    if (c.cost > 0 && c.relevant) c.cost_per_relevant = c.cost / static_cast<double>(c.relevant);
    for (auto& s : c.funnel)
      if (c.cost > 0 && s.reached) s.cost_per = c.cost / static_cast<double>(s.reached);
  }
  if (f.campaigns.back().contacts == 0 || rs.ast.campaigns.file.empty()) f.campaigns.pop_back();
  if (rs.ast.campaigns.file.empty()) f.campaigns.clear();  // no campaigns file: no campaign table
  f.stages = all.figures(rs);
  f.recycled_stages = recycled.figures(rs);
  return f;
}

std::string format_figures(const Figures& f) {
  std::string out;
  char buf[256];
  auto cell = [](std::size_t n, const std::optional<double>& target) {
    if (!target || *target <= 0) return std::to_string(n);
    return std::to_string(n) + "/" + number(*target) + " (" + number(100.0 * static_cast<double>(n) / *target) + "%)";
  };
  out += "Account " + std::to_string(f.portal) + ": " + std::to_string(f.contacts) + " contacts handled\n";
  if (!f.campaigns.empty()) {
    out += "\nCampaigns against their targets (contacts at the stage or beyond, now or before):\n";
    std::snprintf(buf, sizeof buf, "  %-28s %9s %16s", "campaign", "contacts", "relevant leads");
    out += buf;
    for (const auto& s : f.campaigns.front().funnel) {
      std::snprintf(buf, sizeof buf, " %16s", s.title.c_str());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " %9s\n", "recycled");
    out += buf;
    for (const auto& c : f.campaigns) {
      std::snprintf(buf, sizeof buf, "  %-28s %9zu %16s", c.name.c_str(), c.contacts, cell(c.relevant, c.relevant_target).c_str());
      out += buf;
      for (const auto& s : c.funnel) {
        std::snprintf(buf, sizeof buf, " %16s", cell(s.reached, s.target).c_str());
        out += buf;
      }
      std::snprintf(buf, sizeof buf, " %9zu\n", c.recycled);
      out += buf;
    }
    out += "\nCost" + (f.currency.empty() ? std::string() : " (" + f.currency + ")") + ":\n";
    std::snprintf(buf, sizeof buf, "  %-28s %12s %16s", "campaign", "budget", "per relevant");
    out += buf;
    for (const auto& s : f.campaigns.front().funnel) {
      std::snprintf(buf, sizeof buf, " %16s", ("per " + s.unit).c_str());
      out += buf;
    }
    out += "\n";
    auto money = [](const std::optional<double>& v) { return v ? number(*v) : std::string("-"); };
    for (const auto& c : f.campaigns) {
      if (c.cost <= 0) continue;
      std::snprintf(buf, sizeof buf, "  %-28s %12s %16s", c.name.c_str(), number(c.cost).c_str(), money(c.cost_per_relevant).c_str());
      out += buf;
      for (const auto& s : c.funnel) {
        std::snprintf(buf, sizeof buf, " %16s", money(s.cost_per).c_str());
        out += buf;
      }
      out += "\n";
    }
  }
  auto stage_table = [&](const std::vector<StageFigures>& stages, const char* title) {
    bool any = false;
    for (const auto& s : stages) any = any || s.entered;
    if (!any) return;
    out += std::string("\n") + title + ":\n";
    std::snprintf(buf, sizeof buf, "  %-26s %9s %18s %14s %12s\n", "stage", "contacts", "moved on (share)", "median days", "p90 days");
    out += buf;
    auto days = [](const std::optional<double>& v) { return v ? number(*v, 1) : std::string("-"); };
    for (const auto& s : stages) {
      if (!s.entered) continue;
      std::snprintf(buf, sizeof buf, "  %-26s %9zu %18s %14s %12s\n", s.stage.c_str(), s.entered,
                    s.conversion_to_next ? (number(100 * *s.conversion_to_next) + "%").c_str() : "-",
                    days(s.median_days).c_str(), days(s.p90_days).c_str());
      out += buf;
    }
  };
  stage_table(f.stages, "Stages (every contact; time in stage over completed stays)");
  stage_table(f.recycled_stages, "Stages of recycled contacts (returned to nurture at least once)");
  return out;
}

nlohmann::json figures_json(const Figures& f) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j{{"portal", f.portal}, {"contacts", f.contacts}, {"currency", f.currency}, {"campaigns", json::array()}};
  for (const auto& c : f.campaigns) {
    json funnel = json::array();
    for (const auto& s : c.funnel)
      funnel.push_back({{"stage", s.stage}, {"title", s.title}, {"unit", s.unit}, {"reached", s.reached}, {"target", opt(s.target)},
                        {"cost_per", opt(s.cost_per)}});
    j["campaigns"].push_back({{"name", c.name},
                              {"contacts", c.contacts},
                              {"relevant", c.relevant},
                              {"relevant_target", opt(c.relevant_target)},
                              {"recycled", c.recycled},
                              {"cost", c.cost},
                              {"cost_per_relevant", opt(c.cost_per_relevant)},
                              {"funnel", funnel}});
  }
  auto stages = [&](const std::vector<StageFigures>& v) {
    json a = json::array();
    for (const auto& s : v)
      a.push_back({{"stage", s.stage}, {"contacts", s.entered}, {"conversion_to_next", opt(s.conversion_to_next)},
                   {"stays", s.stays}, {"median_days", opt(s.median_days)}, {"p90_days", opt(s.p90_days)}});
    return a;
  };
  j["stages"] = stages(f.stages);
  j["recycled_stages"] = stages(f.recycled_stages);
  return j;
}

}  // namespace tandem::scoreboard
