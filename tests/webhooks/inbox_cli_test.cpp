// `tandem inbox stats|list|replay` and `tandem serve`, run as processes; outputs checked against
// golden files in tests/data/webhooks/ (regenerate with TANDEM_UPDATE_GOLDEN=1).

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/webhooks/webhook_test_support.hpp"
#include "webhooks/inbox_report.hpp"

using namespace tandem;
using namespace tandem::webhooks;
using namespace tandem::testing;
using namespace std::chrono_literals;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
};

Run run_cli(const std::string& args) {
  const std::string command = std::string(TANDEM_INTAKE_CLI) + " " + args + " 2>&1";
  Run r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(TANDEM_TEST_DATA_DIR) + "/webhooks/" + name;
  if (std::getenv("TANDEM_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  const std::string expected = read_file_or_fail(path);
  INFO("golden file " << path);
  CHECK(actual == expected);
}

Event make_event(std::int64_t id, const char* type = "contact.propertyChange") {
  Event e;
  e.event_id = id;
  e.portal_id = 62515;
  e.object_id = 1000 + id;
  e.occurred_at = 1700000000000 + id;
  e.subscription_id = 25;
  e.subscription_type = type;
  e.known_type = is_known_subscription_type(type);
  if (std::string(type) == "contact.propertyChange") e.property_name = "lifecyclestage";
  e.payload = payload_of(e);
  return e;
}

// An inbox in every state: 2 done, 1 dead, 1 skipped, 1 claimed, 2 pending (one unknown type).
void populate(const std::string& db) {
  ManualClock clock{from_epoch_ms(1763800000000)};
  store::StoreConfig config;
  config.path = db;
  testing::FileInbox inbox(config, clock, /*max_attempts=*/1);
  std::vector<Event> batch = {make_event(1), make_event(2), make_event(3), make_event(4), make_event(5),
                              make_event(6), make_event(7, "contact.brandNew")};
  batch[3].own_echo = true;
  const std::vector<Event>* batches[] = {&batch};
  REQUIRE(inbox.append(batches).has_value());
  clock.advance(1min);
  auto claimed = testing::ok(inbox.claim(3, 30s, "w"));
  REQUIRE(claimed.size() == 3);
  REQUIRE(inbox.acknowledge(claimed[0].id, "w"));
  REQUIRE(inbox.acknowledge(claimed[1].id, "w"));
  REQUIRE(inbox.retry_later(claimed[2].id, "w", "HubSpot answered 400: PROPERTY_DOESNT_EXIST", 1s));
  REQUIRE(testing::ok(inbox.claim(1, 1h, "w")).size() == 1);
}

}  // namespace

TEST_CASE("tandem inbox stats, list and replay") {
  TempDir dir;
  const std::string db = dir.file("inbox.db");
  populate(db);

  Run stats = run_cli("inbox stats --db " + db + " --json");
  CHECK(stats.exit_code == 0);
  auto json = nlohmann::json::parse(stats.out);
  CHECK(json.at("unprocessed") == 3);
  CHECK(json.at("claimed") == 1);
  CHECK(json.at("done") == 2);
  CHECK(json.at("dead") == 1);
  CHECK(json.at("skipped") == 1);
  CHECK(json.at("unknown_types") == 1);

  Run list = run_cli("inbox list --db " + db);
  CHECK(list.exit_code == 0);
  check_golden("inbox_list.golden", list.out);

  Run dead = run_cli("inbox list --db " + db + " --state dead --json");
  CHECK(dead.exit_code == 0);
  auto line = nlohmann::json::parse(dead.out.substr(0, dead.out.find('\n')));
  CHECK(line.at("state") == "dead");
  CHECK(line.at("last_error") == "failed 1 times; last error: HubSpot answered 400: PROPERTY_DOESNT_EXIST");
  CHECK(line.at("event").at("eventId") == 3);

  Run paged = run_cli("inbox list --db " + db + " --after 5 --limit 1");
  CHECK(std::count(paged.out.begin(), paged.out.end(), '\n') == 2);  // header + event 6

  CHECK(run_cli("inbox replay --db " + db).exit_code == 2);
  Run replay = run_cli("inbox replay --db " + db + " --all");
  CHECK(replay.exit_code == 0);
  CHECK(replay.out == "replayed 1 event(s)\n");
  CHECK(run_cli("inbox replay --db " + db + " --id 4 --from skipped").out == "replayed 1 event(s)\n");
  CHECK(run_cli("inbox replay --db " + db + " --id 4 --from skipped").exit_code == 1);
  stats = run_cli("inbox stats --db " + db + " --json");
  CHECK(nlohmann::json::parse(stats.out).at("unprocessed") == 5);
  CHECK(run_cli("inbox stats").exit_code == 1);
  CHECK(run_cli("inbox list --db " + db + " --state nonsense").exit_code == 2);
}

TEST_CASE("stats text format") {
  InboxStats s;
  s.unprocessed = 12;
  s.claimed = 2;
  s.done = 340;
  s.dead = 1;
  s.skipped = 7;
  s.unknown_types = 3;
  s.oldest_unprocessed_age = 1500ms;
  check_golden("inbox_stats.golden", render_stats(s));
  CHECK(format_epoch_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_epoch_ms(1763800000123) == "2025-11-22T08:26:40.123Z");
}

TEST_CASE("tandem serve: bad configuration is reported, a good one serves until SIGTERM") {
  TempDir dir;
  {
    std::ofstream(dir.file("bad.yaml")) << "server:\n  listn: 127.0.0.1:0\nhubspot:\n  client_id: x\n";
  }
  Run bad = run_cli("serve --config " + dir.file("bad.yaml"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("listn") != std::string::npos);

  {
    std::ofstream(dir.file("good.yaml")) << "server:\n  listen: 127.0.0.1:0\n  public_url: https://tandem.example.com\n"
                                            "hubspot:\n  app_id: \"9393361\"\n  client_id: x\n"
                                            "  client_secret: {env: HUBSPOT_TEST_CLIENT_SECRET}\n"
                                            "oauth:\n  token_key: {env: HUBSPOT_TEST_TOKEN_KEY}\n"
                                            "rules:\n  path: " + std::string(TANDEM_SOURCE_DIR) + "/examples/rules\n"
                                            "store:\n  path: " + dir.file("serve.db") + "\nlog:\n  level: info\n";
  }
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("HUBSPOT_TEST_CLIENT_SECRET", kTestSecret, 1);
    ::setenv("HUBSPOT_TEST_TOKEN_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    std::FILE* f = std::freopen(dir.file("serve.log").c_str(), "w", stderr);
    (void)f;
    ::execl(TANDEM_INTAKE_CLI, TANDEM_INTAKE_CLI, "serve", "--config", dir.file("good.yaml").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The port is in the "listening" log line.
  std::string origin;
  wait_until(
      [&] {
        std::ifstream log(dir.file("serve.log"));
        std::string line;
        while (std::getline(log, line)) {
          auto j = nlohmann::json::parse(line, nullptr, false);
          if (!j.is_discarded() && j.value("message", "") == "listening") origin = j.value("url", "");
        }
        return !origin.empty();
      },
      5s, 10ms);
  REQUIRE_FALSE(origin.empty());
  http::Request request = signed_request(events_body(3), std::chrono::system_clock::now());
  auto result = http::fetch(origin, request);
  REQUIRE(result.has_value());
  CHECK(result->status == 200);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  Run stats = run_cli("inbox stats --json --db " + dir.file("serve.db"));
  CHECK(nlohmann::json::parse(stats.out).at("unprocessed") == 3);
}
