#pragma once
// The scoreboard's figures, from what Tandem keeps about the contacts it handles: per campaign of
// the campaigns file, the contacts counted for it, its relevant leads and how many reached each
// stage of the funnel, against the targets and the budget; per stage, the conversion to the next
// and the time spent in it (median, p90) from the stage history, with recycled contacts (returned
// to nurture at least once) apart.
//
// Pure computation over rows the caller streams in (store/ reads them from SQLite), so that the
// same figures feed `tandem scoreboard`, the page and its JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "rules/ruleset.hpp"

namespace tandem::scoreboard {

struct ContactRow {
  std::string id;
  std::string campaign;  // "" none
  bool relevant = false;
  std::string stage;      // the stage the last decision left it in
  int recycle_count = 0;  // returns to nurture so far
};

// One move of a contact's stage (Tandem's, a person's in HubSpot, another app's).
struct TransitionRow {
  std::string contact;
  std::int64_t at = 0;  // epoch ms
  std::string from, to;
};

// A funnel step: the stage, and HubSpot's lifecycle stages named as the targets name them.
struct FunnelStep {
  std::string stage;  // "marketingqualifiedlead"
  std::string title;  // "MQLs"
  std::string unit;   // "MQL"
  std::optional<double> target;
  std::size_t reached = 0;  // contacts at this stage or beyond, now or at any time before
  std::optional<double> cost_per;
};

struct CampaignFigures {
  std::string name;
  std::size_t contacts = 0, relevant = 0, recycled = 0;
  std::optional<double> relevant_target;
  double cost = 0;  // the budget lines' sum
  std::optional<double> cost_per_relevant;
  std::vector<FunnelStep> funnel;  // MQLs, SQLs, opportunities, won: the ones the stages have
};

struct StageFigures {
  std::string stage;
  std::size_t entered = 0;                     // contacts that were at the stage
  std::optional<double> conversion_to_next;    // share of them that reached a later stage
  std::size_t stays = 0;                       // completed stays measured
  std::optional<double> median_days, p90_days;  // time in the stage
};

struct Figures {
  std::int64_t portal = 0;
  std::string currency;
  std::vector<CampaignFigures> campaigns;  // in file order, then "(no campaign)" when any
  std::vector<StageFigures> stages;           // every contact
  std::vector<StageFigures> recycled_stages;  // the contacts returned to nurture at least once
  std::size_t contacts = 0;
};

// `transitions` in any order. Stage order is the rules' (rs.ast.stages).
Figures compute(const rules::CompiledRuleset& rs, std::int64_t portal, const std::vector<ContactRow>& contacts,
                std::vector<TransitionRow> transitions);

// The tables for a terminal, and the same as JSON.
std::string format_figures(const Figures& f);
nlohmann::json figures_json(const Figures& f);

}  // namespace tandem::scoreboard
