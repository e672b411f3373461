// Any bytes as a rule file give diagnostics or a valid ruleset, never a crash or a hang: mutations
// of the example file with a fixed seed and a bounded count (a few seconds in all).

#include <catch2/catch.hpp>

#include <chrono>
#include <random>

#include <unistd.h>

#include "golden.hpp"
#include "rules/evaluator.hpp"
#include "rules/expression.hpp"

using namespace tandem::rules;

namespace {

std::string mutate(std::string text, std::mt19937& rng) {
  static const std::string pieces[] = {
      "[",      "]",  "{",    "}",     ":",        "- ",        "\"",     "'",        "\n",          "  ",    "\t",
      "&a ",    "*a", "<<: ", "#",     "|",        ">",         "!!str ", "\xff\xfe", "%YAML 1.2\n", "---\n", "...\n",
      "when: ", "((", "))",   " and ", " or not ", " between ", "{{",     "}}",       "1e999",       "-",     "?"};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t pos = rng() % text.size();
    switch (rng() % 7) {
      case 0: text.erase(pos, 1 + rng() % 40); break;
      case 1: text.insert(pos, pieces[rng() % std::size(pieces)]); break;
      case 2: text[pos] = static_cast<char>(rng() % 256); break;
      case 3: {  // duplicate a slice
        const std::size_t len = std::min<std::size_t>(1 + rng() % 200, text.size() - pos);
        text.insert(rng() % text.size(), text.substr(pos, len));
        break;
      }
      case 4: text.resize(pos); break;
      case 5: {  // swap two lines' starts
        const std::size_t other = rng() % text.size();
        std::swap(text[pos], text[other]);
        break;
      }
      case 6: text.insert(pos, std::string(1 + rng() % 80, "([{ -:\"'"[rng() % 8])); break;
    }
  }
  return text;
}

}  // namespace

TEST_CASE("mutated rule files never crash or hang the parser, checker, compiler or evaluator") {
  const std::string original = testing::read_text(std::string(TANDEM_SOURCE_DIR) + "/examples/rules/lead-rules.yaml");
  REQUIRE(!original.empty());
  std::mt19937 rng(20261120);
  ContactRecord contact{"1",
                        {{"email", "a@b.com"},
                         {"numberofemployees", "300"},
                         {"jobtitle", "Head of Data"},
                         {"lifecyclestage", "lead"},
                         {"recent_conversion_date", "2026-11-19T10:00:00Z"}}};
  Evaluator ev;
  Decision d;
  int compiled = 0, rejected = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1500; ++i) {
    const std::string text = mutate(original, rng);
    LoadResult r;
    REQUIRE_NOTHROW(r = compile_ruleset("fuzz.yaml", text));
    if (r.ruleset) {
      ++compiled;
      REQUIRE_NOTHROW(ev.evaluate(*r.ruleset, contact, {}, 1'795'168'800'000, d, EvalOptions{true, true}));
    } else {
      ++rejected;
      REQUIRE(r.diagnostics.has_errors());
      REQUIRE_FALSE(r.diagnostics.format().empty());
    }
  }
  CHECK(compiled > 0);
  CHECK(rejected > 0);
  // Not a benchmark: a generous bound that only a hang would exceed.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
}

TEST_CASE("random condition text is parsed or refused, never crashes") {
  std::mt19937 rng(7);
  const std::string alphabet = "abc xyz()[],\"'=<>!+-0123456789.dhw and or not in is missing between contains with";
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    const std::size_t len = rng() % 60;
    for (std::size_t k = 0; k < len; ++k) text += alphabet[rng() % alphabet.size()];
    Expr e;
    ExpressionError err;
    if (parse_expression(text, e, err)) {
      CHECK_NOTHROW(to_source(e));
    } else {
      CHECK(err.offset >= 0);
      CHECK(static_cast<std::size_t>(err.offset) <= text.size());
    }
  }
}

#include <filesystem>
#include <fstream>

#include "rules/rule_tests.hpp"

TEST_CASE("mutated rule test files give failures or diagnostics, never a crash") {
  namespace fs = std::filesystem;
  const std::string examples = std::string(TANDEM_SOURCE_DIR) + "/examples/rules";
  const std::string original = testing::read_text(examples + "/tests/lead-rules-test.yaml");
  REQUIRE(!original.empty());
  // A private copy of the rules directory: the mutated tests find the rules beside their folder.
  const fs::path dir = fs::temp_directory_path() / ("tandem-rule-tests-" + std::to_string(::getpid()));
  fs::create_directories(dir / "tests");
  fs::copy_file(examples + "/lead-rules.yaml", dir / "lead-rules.yaml", fs::copy_options::overwrite_existing);
  const std::string file = (dir / "tests" / "mutated-test.yaml").string();
  std::mt19937 rng(4242);
  for (int i = 0; i < 150; ++i) {
    std::ofstream(file, std::ios::binary) << mutate(original, rng);
    RuleTestReport report;
    REQUIRE_NOTHROW(report = run_rule_tests(file, i % 10 == 0));
    CHECK(report.passed + report.failed + static_cast<int>(report.diagnostics.error_count()) >= 0);
  }
  fs::remove_all(dir);
}
