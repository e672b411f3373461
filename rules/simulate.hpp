#pragma once
// Back-test: evaluate a ruleset over an export of contacts (JSON-lines or CSV) and count where
// they land; with a baseline ruleset, list the contacts whose stage changes and why.
// Each contact is evaluated with the stored state its line carries (rules/contacts.hpp: stage entry,
// recycle count, cool-off end, SLA tasks already created), else as a contact Tandem has not seen.
// Contacts are streamed: memory stays flat whatever the export's size (only the first changed
// contacts and malformed lines are kept, up to a limit each; counts cover all of them).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "rules/ruleset.hpp"

namespace tandem::rules {

struct SimulateOptions {
  std::string contacts;
  std::int64_t at_ms = 0;
  std::size_t max_listed_changes = 50;
  std::size_t max_listed_errors = 10;
  // Called now and then with (bytes read, total bytes); may be empty.
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

struct StageChange {
  std::string contact;
  std::string email;                  // the contact's email property, when the export has one
  std::string before, after;          // target stages under the baseline and the new rules
  std::string why_before, why_after;  // the qualify / return rule (or what held it back) behind each
};

struct SimulateSummary {
  std::size_t contacts = 0;
  std::size_t with_state = 0;                 // contacts whose line carried Tandem's stored state
  std::size_t malformed = 0;                  // every malformed line
  std::vector<std::string> errors;            // the first max_listed_errors of them, "line N: why"
  std::map<std::string, std::size_t> stages;  // target stage -> contacts
  std::size_t stage_moves = 0;                // contacts whose stage would change
  std::map<std::string, std::size_t> tasks;   // origin -> tasks
  std::size_t task_total = 0;
  std::map<std::string, std::size_t> rules;  // qualify / return rule -> contacts moved by it
  std::map<std::string, std::size_t> not_ready;
  std::size_t data_quality_failures = 0;
  // Per campaign of the campaigns file (parallel to ast.campaigns.campaigns), then "no campaign":
  // contacts attributed, relevant leads, and how many are at each stage or beyond.
  struct CampaignCounts {
    std::size_t contacts = 0, relevant = 0;
    std::vector<std::size_t> at_or_beyond;  // per stage index
  };
  std::vector<CampaignCounts> campaigns;
};

struct SimulateResult {
  SimulateSummary current, baseline;
  bool has_baseline = false;
  std::size_t changed = 0;
  std::map<std::string, std::size_t> change_groups;  // "before -> after: why" -> contacts
  std::vector<StageChange> changes;                  // the first max_listed_changes
  std::string error;                                 // the contacts file could not be read
};

SimulateResult simulate(const CompiledRuleset& rules, const CompiledRuleset* baseline, const SimulateOptions& options);
std::string format_simulation(const CompiledRuleset& rules, const CompiledRuleset* baseline,
                              const SimulateResult& result);

}  // namespace tandem::rules
