#pragma once
// The ruleset a running service evaluates with. Hot reload swaps the pointer: evaluations that
// already hold the old ruleset finish with it, new ones get the new one. A file with errors never
// replaces a working ruleset.

#include <atomic>
#include <memory>
#include <string>

#include "rules/ruleset.hpp"

namespace tandem::rules {

class RulesetHolder {
 public:
  RulesetHolder() = default;
  explicit RulesetHolder(RulesetPtr initial) : current_(std::move(initial)) {}

  // Thread-safe; the returned pointer keeps its ruleset alive for as long as the caller holds it.
  [[nodiscard]] RulesetPtr current() const { return current_.load(std::memory_order_acquire); }

  // Compiles `path`; swaps it in only when it has no errors. Returns the diagnostics either way
  // (warnings do not block a reload). `changed` tells whether the content hash differs.
  LoadResult reload(const std::string& path, const PropertyCatalog* catalog = nullptr, bool* changed = nullptr) {
    LoadResult result = load_ruleset(path, catalog);
    if (changed) *changed = false;
    if (result.ruleset) {
      RulesetPtr old = current();
      if (changed)
        *changed = !old || old->version.hash != result.ruleset->version.hash ||
                   old->campaigns_version.hash != result.ruleset->campaigns_version.hash;
      current_.store(result.ruleset, std::memory_order_release);
    }
    return result;
  }

 private:
  std::atomic<RulesetPtr> current_;
};

}  // namespace tandem::rules
