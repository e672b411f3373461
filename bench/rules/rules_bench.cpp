// Tandem's side of the rules benchmark (bench/rules/run.sh builds and runs it).
//   rules_bench RULES CONTACTS.jsonl AT RESULTS
// Loads all contacts into memory first (not timed), then times, on one core, binding each
// contact's property strings to slots (numbers and dates parsed here, per contact) plus the
// evaluation of the whole ruleset (data quality, fit, engagement with decay, not-ready, stage).
// Writes "stage fit engagement" per contact for the agreement check against the JSON Logic engines.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/evaluator.hpp"

using namespace tandem::rules;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: rules_bench RULES CONTACTS.jsonl AT RESULTS\n";
    return 2;
  }
  LoadResult loaded = load_ruleset(argv[1]);
  if (!loaded.ruleset) {
    std::cerr << loaded.diagnostics.format();
    return 1;
  }
  const CompiledRuleset& rs = *loaded.ruleset;
  const std::int64_t at = parse_date_ms(argv[3]).value_or(0);

  struct Item {
    std::int32_t slot;
    std::uint32_t offset, length;
  };
  std::string arena;
  std::vector<Item> items;
  std::vector<std::uint32_t> begin;
  {
    std::ifstream in(argv[2]);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      begin.push_back(static_cast<std::uint32_t>(items.size()));
      for (auto it = j["properties"].begin(); it != j["properties"].end(); ++it) {
        const std::int32_t slot = rs.slot_of(it.key());
        if (slot < 0) continue;
        const std::string v = it.value().get<std::string>();
        items.push_back({slot, static_cast<std::uint32_t>(arena.size()), static_cast<std::uint32_t>(v.size())});
        arena += v;
      }
    }
    begin.push_back(static_cast<std::uint32_t>(items.size()));
  }
  const std::size_t n = begin.size() - 1;
  std::vector<std::int8_t> stage(n);
  std::vector<double> fit(n), engagement(n);

  Evaluator ev;
  Decision d;
  const ContactState state;
  const EvalOptions options{false, false};
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t c = 0; c < n; ++c) {
      ev.clear_slots(rs);
      for (std::uint32_t k = begin[c]; k < begin[c + 1]; ++k)
        ev.bind_value(rs, items[k].slot, std::string_view(arena).substr(items[k].offset, items[k].length));
      ev.evaluate_slots(rs, nullptr, state, at, d, options);
      stage[c] = static_cast<std::int8_t>(d.target_stage);
      fit[c] = d.fit[0].score;
      engagement[c] = d.engagement.score;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
  }
  std::FILE* out = std::fopen(argv[4], "w");
  for (std::size_t c = 0; c < n; ++c) std::fprintf(out, "%d %.9g %.9g\n", stage[c], fit[c], engagement[c]);
  std::fclose(out);
  std::printf("{\"engine\":\"tandem\",\"contacts\":%zu,\"seconds\":%.4f,\"per_second\":%.0f}\n", n, best,
              static_cast<double>(n) / best);
  return 0;
}
