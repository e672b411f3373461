// `tandem scoreboard`: the lead agreement's figures in a terminal (or as JSON): each campaign of
// the campaigns file against its targets and budget, and the funnel's conversion and time in stage,
// per account, from what `tandem serve` keeps in its store.

#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "connector/account_store.hpp"
#include "connector/commands.hpp"
#include "rules/ruleset.hpp"
#include "scoreboard/figures.hpp"

namespace tandem::connector {
namespace {

struct ScoreboardArgs {
  std::string config_path;
  std::int64_t portal = 0;
  bool json = false;
};

int run_scoreboard(const ScoreboardArgs& args) {
  auto loaded = open_store(args.config_path, false, "tandem scoreboard");
  if (!loaded) return 1;
  const auto rules = rules::load_ruleset(loaded->config.rules.path);
  if (!rules.ruleset) {
    std::cerr << rules.diagnostics.format() << "tandem scoreboard: the rules at " << loaded->config.rules.path
              << " do not load; run 'tandem rules check " << loaded->config.rules.path << "'\n";
    return 1;
  }
  std::map<std::int64_t, std::vector<scoreboard::ContactRow>> by_portal;
  auto scanned = loaded->store->contacts.for_each(
      args.portal, [&](std::int64_t portal, const std::string& id, const pipeline::StoredContact& c) {
        by_portal[portal].push_back({id, c.campaign, c.relevant, c.stage, c.rules.recycle_count});
      });
  if (!scanned) {
    std::cerr << "tandem scoreboard: " << scanned.error().message << '\n';
    return 1;
  }
  if (args.portal != 0 && by_portal.empty()) by_portal[args.portal];  // an account with nothing yet: zeros
  nlohmann::json all = nlohmann::json::array();
  bool first = true;
  for (auto& [portal, contacts] : by_portal) {
    auto history = loaded->store->contacts.transitions(portal, "", std::numeric_limits<std::int64_t>::max());
    if (!history) {
      std::cerr << "tandem scoreboard: " << history.error().message << '\n';
      return 1;
    }
    std::vector<scoreboard::TransitionRow> transitions;
    transitions.reserve(history->size());
    for (auto& t : *history) transitions.push_back({std::move(t.contact_id), t.at, std::move(t.from), std::move(t.to)});
    const scoreboard::Figures figures = scoreboard::compute(*rules.ruleset, portal, contacts, std::move(transitions));
    if (args.json) {
      all.push_back(scoreboard::figures_json(figures));
    } else {
      std::cout << (first ? "" : "\n") << scoreboard::format_figures(figures);
      first = false;
    }
  }
  if (args.json) std::cout << all.dump(2) << '\n';
  else if (by_portal.empty()) std::cout << "No contacts handled yet.\n";
  return 0;
}

}  // namespace

void add_scoreboard_command(CLI::App& app, int& exit_code) {
  // Per command line parsed (one App per run_cli call): nothing carries over between runs.
  auto args = std::make_shared<ScoreboardArgs>();
  auto* command = app.add_subcommand(
      "scoreboard", "The lead agreement's figures: campaigns against targets and budget, conversion and time in stage");
  command->add_option("--config,-c", args->config_path, "Configuration file")->required()->check(CLI::ExistingFile);
  command->add_option("--portal", args->portal, "Only this HubSpot account (hub id)");
  command->add_flag("--json", args->json, "JSON instead of tables");
  command->callback([args, &exit_code] { exit_code = run_scoreboard(*args); });
}

}  // namespace tandem::connector
