// After warm-up, binding a contact and evaluating the whole example ruleset on the fast path (no
// trace, no action planning) allocates nothing. Counted with a replaced global operator new, so
// this test has an executable of its own.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "golden.hpp"
#include "rules/evaluator.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace tandem::rules;

TEST_CASE("the evaluation fast path does not allocate per contact") {
  const std::string text = testing::read_text(std::string(TANDEM_SOURCE_DIR) + "/examples/rules/lead-rules.yaml");
  LoadResult r = compile_ruleset("lead-rules.yaml", text);
  REQUIRE(r.ruleset);
  const CompiledRuleset& rs = *r.ruleset;
  std::vector<ContactRecord> contacts = {
      {"1",
       {{"email", "ada@northwind-retail.com"},
        {"company", "Northwind"},
        {"country", "Germany"},
        {"jobtitle", "Head of Data"},
        {"numberofemployees", "850"},
        {"tech_stack", "Snowflake;dbt"},
        {"lifecyclestage", "lead"},
        {"recent_conversion_event_name", "Demo request"},
        {"recent_conversion_date", "2026-11-19T10:00:00Z"},
        {"hs_analytics_num_page_views", "12"},
        {"hs_analytics_last_visit_timestamp", "1795000000000"}}},
      {"2", {{"email", "x@gmail.com"}, {"jobtitle", "working student"}, {"lifecyclestage", "subscriber"}}},
      {"3", {}}};
  Evaluator ev;
  Decision d;
  const ContactState state;
  const EvalOptions fast{false, false};
  for (const auto& c : contacts) ev.evaluate(rs, c, state, 1'795'168'800'000, d, fast);  // warm-up: buffers grow once
  // The counter works: planning actions (property writes) does allocate.
  counting = true;
  ev.evaluate(rs, contacts[0], state, 1'795'168'800'000, d, EvalOptions{false, true});
  counting = false;
  CHECK(allocations.load() > 0);

  allocations = 0;
  counting = true;
  for (int i = 0; i < 1000; ++i)
    for (const auto& c : contacts) ev.evaluate(rs, c, state, 1'795'168'800'000 + i, d, fast);
  counting = false;
  CHECK(allocations.load() == 0);
  CHECK(d.fit.size() == 1);
}
