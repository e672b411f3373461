#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "rules/ruleset_holder.hpp"

using namespace tandem::rules;

TEST_CASE("hot reload swaps in a valid ruleset and never a broken one") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tandem-holder-" + std::to_string(::getpid()) + ".yaml")).string();
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
  RulesetHolder holder;
  CHECK_FALSE(holder.current());

  write("version: one\nfit:\n  - {name: a, when: x > 1, points: 1}\n");
  bool changed = false;
  CHECK(holder.reload(path, nullptr, &changed).ruleset);
  CHECK(changed);
  RulesetPtr first = holder.current();
  REQUIRE(first);
  CHECK(first->version.label == "one");

  write("version: broken\nfit:\n  - {name: a, when: x >, points: 1}\n");
  LoadResult broken = holder.reload(path, nullptr, &changed);
  CHECK_FALSE(broken.ruleset);
  CHECK(broken.diagnostics.has_errors());
  CHECK_FALSE(changed);
  CHECK(holder.current() == first);  // still the working one

  write("version: two\nfit:\n  - {name: a, when: x > 2, points: 1}\n");
  CHECK(holder.reload(path, nullptr, &changed).ruleset);
  CHECK(changed);
  CHECK(holder.current()->version.label == "two");
  CHECK(first->version.label == "one");  // a holder of the old pointer still has a complete ruleset
  std::remove(path.c_str());
}
