#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/database.hpp"
#include "store/sqlite.hpp"
#include "store/sqlite_audit.hpp"
#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/read_file_or_fail.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using tandem::testing::ok;

namespace {

webhooks::Event make_event(std::int64_t event_id) { return testing::make_event(event_id, 1000 + event_id); }

void append_events(webhooks::Inbox& inbox, int count) {
  std::vector<webhooks::Event> batch;
  for (int i = 1; i <= count; ++i) batch.push_back(make_event(i));
  const std::vector<webhooks::Event>* batches[] = {&batch};
  ok(inbox.append(batches));
}

pipeline::AuditEntry decision_for(const webhooks::StoredEvent& e) {
  pipeline::AuditEntry entry;
  entry.portal_id = e.event.portal_id;
  entry.contact_id = e.event.object_id;
  entry.at = 1700000000000;
  entry.kind = "handoff";
  entry.rules_version = "test";
  entry.source_event = e.id;
  entry.detail = R"({"matched":["fits the profile"]})";
  return entry;
}

std::int64_t count(store::Connection& db, const std::string& sql) {
  store::Statement s(db, sql);
  return s.step() ? s.column_int(0) : -1;
}

// The file layout of the build before per-component migrations (inbox layout 4), as that build
// wrote it (tests/data/store/inbox-layout-4.sql is `sqlite3 FILE .dump` of a file it wrote while
// receiving three signed deliveries, one of them an own echo).
void write_layout_4(const std::string& path) {
  const std::string sql = testing::read_file_or_fail(std::string(TANDEM_TEST_DATA_DIR) + "/store/inbox-layout-4.sql");
  store::Connection db(path);
  db.exec("PRAGMA page_size = 16384");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(sql);
  db.exec("PRAGMA user_version = 4");
}

}  // namespace

TEST_CASE("a new file gets every component's migrations, recorded per component") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  MetricsRegistry metrics;
  ManualClock clock;
  {
    store::Database db(config, metrics);
    store::SqliteInbox inbox(db, clock);
    store::SqliteAuditLog audit(db);
    CHECK(db.version("inbox") == 1);
    CHECK(db.version("audit") == 1);
    CHECK(db.version("outbox") == 0);
  }
  store::Connection raw(config.path);
  CHECK(count(raw, "PRAGMA user_version") == 5);
  CHECK(count(raw, "SELECT count(*) FROM store_migrations") == 2);
  CHECK(count(raw, "SELECT count(*) FROM sqlite_master WHERE name IN ('inbox_events', 'inbox_queue', 'audit_log')") == 3);
}

TEST_CASE("migrations run once, in order, and a file migrated by a newer build is refused") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  MetricsRegistry metrics;
  static constexpr store::Migration kV1[] = {{1, "CREATE TABLE widgets (id INTEGER PRIMARY KEY)"}};
  static constexpr store::Migration kV2[] = {{1, "CREATE TABLE widgets (id INTEGER PRIMARY KEY)"},
                                             {2, "ALTER TABLE widgets ADD COLUMN name TEXT NOT NULL DEFAULT ''"}};
  {
    store::Database db(config, metrics);
    db.migrate("widgets", kV1);
    db.migrate("widgets", kV1);  // again: nothing to do (a second CREATE TABLE would throw)
    CHECK(db.version("widgets") == 1);
  }
  {
    store::Database db(config, metrics);
    int seen = -1;
    db.migrate("widgets", kV2, [&](store::Connection&, int found) { seen = found; });
    CHECK(seen == 1);
    CHECK(db.version("widgets") == 2);
  }
  store::Database db(config, metrics);
  try {
    db.migrate("widgets", kV1);
    FAIL("an older build migrated a file of a newer one");
  } catch (const store::SqliteError& e) {
    CHECK_THAT(e.what(), Catch::Contains("widgets was migrated to version 2 by a newer build"));
  }
  // A failing step leaves the component where it was.
  static constexpr store::Migration kBroken[] = {kV2[0], kV2[1], {3, "CREATE TABLE widgets (id INTEGER)"}};
  CHECK_THROWS_AS(db.migrate("widgets", kBroken), store::SqliteError);
  CHECK(db.version("widgets") == 2);
}

TEST_CASE("a file of the previous layout (inbox layout 4) is adopted with its events") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  write_layout_4(config.path);
  ManualClock clock;
  testing::FileInbox inbox(config, clock);
  CHECK(inbox.database.version("inbox") == 1);
  auto stats = ok(inbox.stats());
  CHECK(stats.unprocessed == 2);
  CHECK(stats.skipped == 1);
  // The stored events read back, deduplicate against a redelivery, and are claimed.
  auto listed = ok(inbox.list({}));
  REQUIRE(listed.size() == 3);
  webhooks::Event redelivered = listed[0].event;
  const std::vector<webhooks::Event> batch{redelivered};
  const std::vector<webhooks::Event>* batches[] = {&batch};
  CHECK(ok(inbox.append(batches))[0].duplicates == 1);
  auto claimed = ok(inbox.claim(10, 30s, "w"));
  CHECK(claimed.size() == 2);
  CHECK(claimed[0].event.property_name == listed[0].event.property_name);
  store::SqliteAuditLog audit(inbox.database);  // the other components start at version 1
  CHECK(inbox.database.version("audit") == 1);
}

TEST_CASE("a file of a newer layout is refused at start-up") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  {
    store::Connection raw(config.path);
    raw.exec("PRAGMA user_version = 6");
  }
  MetricsRegistry metrics;
  try {
    store::Database db(config, metrics);
    FAIL("opened a file of layout 6");
  } catch (const store::SqliteError& e) {
    CHECK_THAT(e.what(), Catch::Contains("newer build") && Catch::Contains("layout version 6"));
  }
}

TEST_CASE("a unit of work commits the inbox acknowledgement and another table's row together, or neither") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  ManualClock clock;
  testing::FileInbox inbox(config, clock);
  store::SqliteAuditLog audit(inbox.database);
  append_events(inbox, 3);
  auto claimed = ok(inbox.claim(3, 30s, "w"));
  REQUIRE(claimed.size() == 3);

  // Committed: both are there.
  auto committed = inbox.database.run([&](UnitOfWork& unit) {
    return inbox.acknowledge(unit, claimed[0].id, "w").has_value() && audit.record(unit, decision_for(claimed[0]));
  });
  CHECK(ok(committed));
  // Rolled back by the work: neither is.
  auto rolled_back = inbox.database.run([&](UnitOfWork& unit) {
    REQUIRE(inbox.acknowledge(unit, claimed[1].id, "w"));
    REQUIRE(audit.record(unit, decision_for(claimed[1])));
    return false;
  });
  CHECK_FALSE(ok(rolled_back));
  // A lost lease rolls the unit back, and the audit row with it.
  clock.advance(31s);
  REQUIRE(ok(inbox.claim(3, 30s, "other")).size() == 2);
  webhooks::InboxError lost;
  auto stale = inbox.database.run([&](UnitOfWork& unit) {
    REQUIRE(audit.record(unit, decision_for(claimed[2])));
    auto acknowledged = inbox.acknowledge(unit, claimed[2].id, "w");
    if (!acknowledged) lost = acknowledged.error();
    return acknowledged.has_value();
  });
  CHECK_FALSE(ok(stale));
  CHECK(lost.kind == webhooks::InboxError::Kind::kLeaseLost);

  auto entries = ok(audit.list({}));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].source_event == claimed[0].id);
  CHECK(entries[0].detail == R"({"matched":["fits the profile"]})");
  auto done = ok(inbox.list({.state = webhooks::EventState::kDone}));
  REQUIRE(done.size() == 1);
  CHECK(done[0].id == claimed[0].id);
}

TEST_CASE("after SIGKILL at a random moment, an acknowledgement and its audit row are both there or both absent") {
  testing::TempDir dir;
  store::StoreConfig config;
  config.path = dir.file("tandem.db");
  constexpr int kEvents = 1500;
  {
    ManualClock clock;
    testing::FileInbox inbox(config, clock);
    store::SqliteAuditLog audit(inbox.database);
    append_events(inbox, kEvents);
  }  // closed before fork(): the parent has no store thread left to copy into a child

  // A consumer that acknowledges each event together with its decision, until none is left.
  // Runs in a forked child: it ends with _exit, never returns.
  auto consume = [&](const std::string& consumer) noexcept {
    try {
      testing::FileInbox inbox(config, SystemClock::instance(), /*max_attempts=*/100000);
      store::SqliteAuditLog audit(inbox.database);
      for (;;) {
        // A 1 ms lease: after a kill, the next consumer takes the dead one's events at once.
        auto claimed = inbox.claim(20, 1ms, consumer);
        if (!claimed) _exit(3);
        if (claimed->empty()) _exit(0);
        for (const auto& e : *claimed) {
          auto unit = inbox.database.run([&](UnitOfWork& u) {
            return inbox.acknowledge(u, e.id, consumer).has_value() && audit.record(u, decision_for(e)).has_value();
          });
          if (!unit) _exit(4);
        }
      }
    } catch (...) {
      _exit(5);
    }
  };

  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(5, 120);
  int kills = 0;
  for (int round = 0; round < 12; ++round) {
    const bool last = round == 11;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) consume("consumer-" + std::to_string(round));  // never returns
    int status = 0;
    if (!last) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
      ::kill(pid, SIGKILL);
    }
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
      REQUIRE(WTERMSIG(status) == SIGKILL);
      ++kills;
    } else {
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      if (!last) break;  // it finished before the kill: the rest is checked below
    }
  }
  CHECK(kills > 0);

  ManualClock clock;
  testing::FileInbox inbox(config, clock);
  store::SqliteAuditLog audit(inbox.database);
  std::set<std::int64_t> done;
  for (std::int64_t after = 0;;) {
    auto page = ok(inbox.list({.state = webhooks::EventState::kDone, .after_id = after, .limit = 500}));
    if (page.empty()) break;
    for (const auto& e : page) done.insert(e.id);
    after = page.back().id;
  }
  std::map<std::int64_t, int> audited;
  for (std::int64_t after = 0;;) {
    auto page = ok(audit.list({.after_id = after, .limit = 500}));
    if (page.empty()) break;
    for (const auto& e : page) ++audited[e.source_event];
    after = page.back().id;
  }
  // The last consumer ran to the end: every event is done, each with exactly one decision.
  CHECK(done.size() == static_cast<std::size_t>(kEvents));
  CHECK(audited.size() == done.size());
  for (const auto& [id, n] : audited) {
    INFO("event " << id);
    CHECK(n == 1);
    CHECK(done.count(id) == 1);
  }
}
