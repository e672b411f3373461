// `tandem outbox stats|list|retry|drop`, run in process over a database the test fills.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/support/run_cli.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using namespace tandem::hubspot;

namespace {

using Ran = testing::CliRun;

Ran run(std::vector<std::string> args) { return testing::run_cli(std::move(args)); }

// CLI output is checked against tests/data/connector/ (regenerate with TANDEM_UPDATE_GOLDEN=1).
void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(TANDEM_TEST_DATA_DIR) + "/connector/" + name;
  if (std::getenv("TANDEM_UPDATE_GOLDEN")) std::ofstream(path, std::ios::binary) << actual;
  const std::string expected = testing::read_file_or_fail(path);
  INFO("golden file " << path);
  CHECK(actual == expected);
}

constexpr std::int64_t kT0 = 1'763'800'000'000;  // 2025-11-22T08:26:40Z

// A pending update (contact 1), a dead task (contact 2, 400) and a done task (contact 3).
void populate(const std::string& path) {
  store::StoreConfig config;
  config.path = path;
  MetricsRegistry metrics;
  store::Database db(config, metrics);
  store::SqliteOutbox outbox(db);
  std::vector<Intent> intents{
      ContactUpdate{"evt:1:score", 62515, "1", {{"score_band", "b3"}}},
      TaskCreation{"evt:2:task", 62515, "2", {{"hs_task_subject", "Call"}}},
      TaskCreation{"evt:3:task", 62515, "3", {{"hs_task_subject", "Email"}}},
  };
  REQUIRE(testing::ok(outbox.record(intents, kT0)).recorded == 3);
  auto tasks = testing::ok(outbox.take(62515, Lane::kTaskCreates, 10, kT0 + 1000));
  REQUIRE(tasks.size() == 2);
  std::vector<Completion> done{
      {tasks[0].id, Completion::Kind::kDead, "", 0, "INVALID_OWNER_ID (correlationId c-9)", 400},
      {tasks[1].id, Completion::Kind::kWritten, "7001", 0, "", 0},
  };
  REQUIRE(outbox.complete(done, kT0 + 2000).has_value());
}

}  // namespace

TEST_CASE("tandem outbox stats and list print tables and JSON") {
  testing::TempDir dir;
  const std::string db = dir.file("tandem.db");
  populate(db);

  Ran stats = run({"outbox", "stats", "--db", db});
  CHECK(stats.code == 0);
  CHECK_THAT(stats.out, Catch::StartsWith("portal\tlane\tpending\tdead\tdone\toldest pending (s)\n"));
  CHECK_THAT(stats.out, Catch::Contains("62515\tcontact_updates\t1\t0\t0\t"));
  CHECK_THAT(stats.out, Catch::Contains("62515\ttask_creates\t0\t1\t1\t0.000\n"));

  Ran json = run({"outbox", "stats", "--db", db, "--json"});
  CHECK(json.code == 0);
  auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed.at("lanes").size() == 2);
  CHECK(parsed["lanes"][1].at("lane") == "task_creates");
  CHECK(parsed["lanes"][1].at("dead") == 1);

  Ran list = run({"outbox", "list", "--db", db});
  CHECK(list.code == 0);
  check_golden("outbox_list.golden", list.out);

  Ran dead = run({"outbox", "list", "--db", db, "--state", "dead", "--json"});
  CHECK(dead.code == 0);
  auto line = nlohmann::json::parse(dead.out.substr(0, dead.out.find('\n')));
  CHECK(line.at("key") == "evt:2:task");
  CHECK(line.at("last_status") == 400);
  CHECK(line.at("properties").at("hs_task_subject") == "Call");

  Ran paged = run({"outbox", "list", "--db", db, "--after", "1", "--limit", "1", "--lane", "task_creates"});
  CHECK(paged.code == 0);
  CHECK(std::count(paged.out.begin(), paged.out.end(), '\n') == 2);  // header + item 2
  CHECK(run({"outbox", "list", "--db", db, "--state", "gone"}).code == 2);
}

TEST_CASE("tandem outbox retry and drop") {
  testing::TempDir dir;
  const std::string db = dir.file("tandem.db");
  populate(db);

  CHECK(run({"outbox", "retry", "--db", db}).code == 2);  // no target
  CHECK(run({"outbox", "retry", "--db", db, "--id", "1", "--all"}).code == 2);
  Ran none = run({"outbox", "retry", "--db", db, "--id", "1"});  // pending, not dead
  CHECK(none.code == 1);
  CHECK(none.out == "retried 0 item(s)\n");
  Ran retried = run({"outbox", "retry", "--db", db, "--id", "2"});
  CHECK(retried.code == 0);
  CHECK(retried.out == "retried 1 item(s)\n");
  check_golden("outbox_list_after_retry.golden", run({"outbox", "list", "--db", db}).out);
  CHECK(run({"outbox", "list", "--db", db, "--state", "dead"}).out.find("evt:2:task") == std::string::npos);

  Ran dropped = run({"outbox", "drop", "--db", db, "--portal", "62515"});
  CHECK(dropped.code == 0);
  CHECK(dropped.out == "dropped 2 item(s)\n");  // the update and the retried task; not the done one
  Ran left = run({"outbox", "list", "--db", db});
  CHECK(std::count(left.out.begin(), left.out.end(), '\n') == 2);
  CHECK_THAT(left.out, Catch::Contains("\tdone\t"));
}

TEST_CASE("tandem outbox refuses a database that does not exist instead of creating one") {
  testing::TempDir dir;
  Ran r = run({"outbox", "stats", "--db", dir.file("missing.db")});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("no database at"));
  CHECK_FALSE(std::filesystem::exists(dir.file("missing.db")));
}
