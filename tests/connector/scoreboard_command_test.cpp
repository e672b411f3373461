// `tandem scoreboard`, run in process over a database the test fills as the pipeline would
// (contact states with their campaign, stage transitions), with the example rules and campaigns.

#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "rules/time.hpp"
#include "store/database.hpp"
#include "store/sqlite_contact_states.hpp"
#include "tests/support/run_cli.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;

namespace {

using Ran = testing::CliRun;

Ran run(std::vector<std::string> args) { return testing::run_cli(std::move(args)); }

std::int64_t at(const char* iso) { return *rules::parse_date_ms(iso); }

constexpr std::int64_t kPortal = 4242;

// Four fair contacts, one webinar contact, one of no campaign, and one of another account:
//   f1 lead -> MQL (2 days) -> SQL (3 days) -> opportunity, relevant
//   f2 lead -> MQL (4 days) -> returned to lead, recycled once, relevant
//   f3 lead -> MQL (6 days) -> SQL, relevant
//   f4 a lead without moves, not relevant
void populate(const std::string& path) {
  store::StoreConfig config;
  config.path = path;
  MetricsRegistry metrics;
  store::Database db(config, metrics);
  store::SqliteContactStates states(db);
  auto contact = [&](std::int64_t portal, const std::string& id, const std::string& campaign, bool relevant,
                     const std::string& stage, int recycled = 0) {
    pipeline::StoredContact c;
    c.campaign = campaign;
    c.relevant = relevant;
    c.stage = stage;
    c.rules.recycle_count = recycled;
    REQUIRE(db.run([&](UnitOfWork& unit) { return states.save(unit, portal, id, c).has_value(); }));
  };
  auto move = [&](const std::string& id, const char* when, const std::string& from, const std::string& to) {
    pipeline::StageTransition t;
    t.portal_id = kPortal;
    t.contact_id = id;
    t.at = at(when);
    t.from = from;
    t.to = to;
    t.cause = "rule";
    REQUIRE(db.run([&](UnitOfWork& unit) { return states.record_transition(unit, t).has_value(); }));
  };
  const std::string fair = "Data Summit Berlin 2026";
  contact(kPortal, "f1", fair, true, "opportunity");
  move("f1", "2026-10-01T10:00:00Z", "lead", "marketingqualifiedlead");
  move("f1", "2026-10-03T10:00:00Z", "marketingqualifiedlead", "salesqualifiedlead");
  move("f1", "2026-10-06T10:00:00Z", "salesqualifiedlead", "opportunity");
  contact(kPortal, "f2", fair, true, "lead", 1);
  move("f2", "2026-10-01T10:00:00Z", "lead", "marketingqualifiedlead");
  move("f2", "2026-10-05T10:00:00Z", "marketingqualifiedlead", "lead");
  contact(kPortal, "f3", fair, true, "salesqualifiedlead");
  move("f3", "2026-10-02T10:00:00Z", "lead", "marketingqualifiedlead");
  move("f3", "2026-10-08T10:00:00Z", "marketingqualifiedlead", "salesqualifiedlead");
  contact(kPortal, "f4", fair, false, "lead");
  contact(kPortal, "w1", "Warehouse webinar series", false, "lead");
  contact(kPortal, "n1", "", false, "subscriber");
  contact(kPortal + 1, "x1", fair, true, "customer");  // another account: never counted here
}

}  // namespace

TEST_CASE("tandem scoreboard: campaigns against targets and budget, conversion and time in stage") {
  testing::TempDir dir;
  populate(dir.file("tandem.db"));
  std::ofstream(dir.file("tandem.yaml")) << "store:\n  path: " << dir.file("tandem.db") << "\nrules:\n  path: "
                                         << TANDEM_SOURCE_DIR << "/examples/rules\n";
  const Ran json_run = run({"scoreboard", "--config", dir.file("tandem.yaml"), "--portal", std::to_string(kPortal), "--json"});
  INFO(json_run.out << json_run.err);
  REQUIRE(json_run.code == 0);
  const nlohmann::json all = nlohmann::json::parse(json_run.out);
  REQUIRE(all.size() == 1);
  const nlohmann::json& f = all.at(0);
  CHECK(f.at("portal") == kPortal);
  CHECK(f.at("contacts") == 6);
  CHECK(f.at("currency") == "EUR");
  const auto& fair = f.at("campaigns").at(0);
  CHECK(fair.at("name") == "Data Summit Berlin 2026");
  CHECK(fair.at("contacts") == 4);
  CHECK(fair.at("relevant") == 3);
  CHECK(fair.at("relevant_target") == 150);
  CHECK(fair.at("recycled") == 1);
  CHECK(fair.at("cost") == 24000);                    // 18000 + 4500 + 1500
  CHECK(fair.at("cost_per_relevant") == 8000);        // 24000 / 3
  const auto& funnel = fair.at("funnel");
  CHECK(funnel.at(0).at("title") == "MQLs");
  CHECK(funnel.at(0).at("reached") == 3);             // f1, f2 (before its return), f3
  CHECK(funnel.at(0).at("target") == 60);
  CHECK(funnel.at(0).at("cost_per") == 8000);
  CHECK(funnel.at(1).at("reached") == 2);             // SQLs: f1, f3
  CHECK(funnel.at(1).at("cost_per") == 12000);
  CHECK(funnel.at(2).at("reached") == 1);             // opportunities: f1
  CHECK(funnel.at(3).at("reached") == 0);             // won
  CHECK(f.at("campaigns").at(1).at("contacts") == 1);  // the webinar series
  CHECK(f.at("campaigns").at(2).at("name") == "(no campaign)");
  CHECK(f.at("campaigns").at(2).at("contacts") == 1);

  // Stages of every contact: the MQL stays were 2, 4 (f2, until sales returned it) and 6 days.
  auto stage = [&](const char* list, const std::string& name) {
    for (const auto& s : f.at(list))
      if (s.at("stage") == name) return s;
    FAIL("no stage " << name);
    return nlohmann::json();
  };
  const auto mql = stage("stages", "marketingqualifiedlead");
  CHECK(mql.at("contacts") == 3);
  CHECK(mql.at("conversion_to_next").get<double>() == Approx(2.0 / 3));  // f2 went back, not on
  CHECK(mql.at("stays") == 3);
  CHECK(mql.at("median_days") == 4.0);
  CHECK(mql.at("p90_days") == 6.0);
  const auto lead = stage("stages", "lead");
  CHECK(lead.at("contacts") == 5);  // f1, f2, f3 (from their first move), f4, w1
  CHECK(lead.at("conversion_to_next").get<double>() == Approx(0.6));
  const auto sql = stage("stages", "salesqualifiedlead");
  CHECK(sql.at("median_days") == 3.0);  // f1's; f3 is still there
  // The recycled contact apart: 4 days as an MQL before sales returned it.
  const auto recycled_mql = stage("recycled_stages", "marketingqualifiedlead");
  CHECK(recycled_mql.at("contacts") == 1);
  CHECK(recycled_mql.at("median_days") == 4.0);

  // The same as tables.
  const Ran text = run({"scoreboard", "--config", dir.file("tandem.yaml"), "--portal", std::to_string(kPortal)});
  INFO(text.out);
  CHECK(text.code == 0);
  CHECK_THAT(text.out, Catch::Contains("Account 4242: 6 contacts handled"));
  // A table's row by its first cell, split on spaces.
  auto rows = [&](const std::string& section, const std::string& first) {
    std::vector<std::vector<std::string>> found;
    std::istringstream lines(text.out.substr(text.out.find(section)));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line) && !line.empty()) {
      if (line.rfind("  " + first + " ", 0) != 0) continue;
      std::istringstream cells(line.substr(2 + first.size()));
      std::vector<std::string> v;
      for (std::string c; cells >> c;) v.push_back(c);
      found.push_back(v);
    }
    return found;
  };
  using Cells = std::vector<std::vector<std::string>>;
  CHECK(rows("Campaigns against their targets", "Data Summit Berlin 2026") ==
        Cells{{"4", "3/150", "(2%)", "3/60", "(5%)", "2/30", "(7%)", "1/12", "(8%)", "0/4", "(0%)", "1"}});
  CHECK(rows("Cost (EUR)", "Data Summit Berlin 2026") == Cells{{"24000", "8000", "8000", "12000", "24000", "-"}});
  CHECK(rows("Stages (every contact", "marketingqualifiedlead") == Cells{{"3", "67%", "4.0", "6.0"}});
  CHECK(rows("Stages of recycled contacts", "marketingqualifiedlead") == Cells{{"1", "0%", "4.0", "4.0"}});

  // Every account when none is named; the other account's contact is its own.
  const Ran every = run({"scoreboard", "--config", dir.file("tandem.yaml"), "--json"});
  REQUIRE(every.code == 0);
  CHECK(nlohmann::json::parse(every.out).size() == 2);
}
