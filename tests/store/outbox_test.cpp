#include <catch2/catch.hpp>

#include <memory>

#include "hubspot/outbox.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using namespace tandem::hubspot;
using tandem::testing::ok;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kPortal = 62515;
constexpr std::int64_t kT0 = 1'700'000'000'000;

// An outbox on a database of its own; reopen() closes both and opens the file again, as a
// restarted process does.
struct Fixture {
  testing::TempDir dir;
  store::StoreConfig config;
  MetricsRegistry metrics;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::SqliteOutbox> outbox;
  Fixture() {
    config.path = dir.file("tandem.db");
    open();
  }
  void open() {
    db = std::make_unique<store::Database>(config, metrics);
    outbox = std::make_unique<store::SqliteOutbox>(*db);
  }
  void reopen() {
    outbox.reset();
    db.reset();
    open();
  }
  Outbox& o() { return *outbox; }
};

void ok_void(Result<void, OutboxError> r) {
  if (!r) FAIL("unexpected error: " << r.error().message);
}

ContactUpdate update(std::string key, std::string contact, std::vector<PropertyWrite> properties,
                     std::int64_t portal = kPortal) {
  return ContactUpdate{std::move(key), portal, std::move(contact), std::move(properties)};
}
LifecycleChange lifecycle(std::string key, std::string contact, std::string stage, bool backwards) {
  return LifecycleChange{std::move(key), kPortal, std::move(contact), std::move(stage), backwards};
}
TaskCreation task(std::string key, std::string contact, std::string subject) {
  return TaskCreation{std::move(key),
                      kPortal,
                      std::move(contact),
                      {{"hs_timestamp", "2026-12-02T10:00:00Z"}, {"hs_task_subject", std::move(subject)}}};
}

RecordOutcome record(Outbox& o, std::vector<Intent> intents, std::int64_t now = kT0) {
  return ok(o.record(intents, now));
}

std::vector<OutboxItem> take(Outbox& o, Lane lane, std::int64_t now = kT0, std::size_t max = 100) {
  return ok(o.take(kPortal, lane, max, now));
}

void complete(Outbox& o, std::int64_t id, Completion::Kind kind, std::int64_t now = kT0, std::string hubspot_id = "",
              std::int64_t retry_at = 0, std::string error = "", int status = 0) {
  Completion c{id, kind, std::move(hubspot_id), retry_at, std::move(error), status};
  ok_void(o.complete(std::span<const Completion>(&c, 1), now));
}

using P = std::vector<PropertyWrite>;

}  // namespace

TEST_CASE("outbox: recording a key again is a no-op and also within one call") {
  Fixture f;
  auto first = record(f.o(), {update("k1", "1", {{"firstname", "Ada"}}), task("k2", "1", "Call"),
                              update("k1", "1", {{"firstname", "Grace"}})});
  CHECK(first.recorded == 2);
  CHECK(first.already_recorded == 1);
  auto again = record(f.o(), {update("k1", "1", {{"firstname", "Linus"}}), task("k2", "1", "Call")});
  CHECK(again.recorded == 0);
  CHECK(again.already_recorded == 2);
  auto items = take(f.o(), Lane::kContactUpdates);
  REQUIRE(items.size() == 1);
  CHECK(items[0].properties == P{{"firstname", "Ada"}});
  CHECK(take(f.o(), Lane::kTaskCreates).size() == 1);
  // Still a no-op once the first intent was sent.
  complete(f.o(), items[0].id, Completion::Kind::kWritten);
  CHECK(record(f.o(), {update("k1", "1", {{"firstname", "Linus"}})}).already_recorded == 1);
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
}

TEST_CASE("outbox: long keys that share a prefix are told apart") {
  Fixture f;
  const std::string prefix = "evt:1234567:lead-scoring/rules-version-42/";
  auto first = record(f.o(), {task(prefix + "create-task", "1", "A"), task(prefix + "create-tasl", "1", "B"),
                              task(prefix + "create-task", "1", "C")});
  CHECK(first.recorded == 2);
  CHECK(first.already_recorded == 1);
  // A short key equal to a long key's stored prefix is another key.
  CHECK(record(f.o(), {task(prefix.substr(0, 24), "1", "D")}).recorded == 1);
  auto tasks = take(f.o(), Lane::kTaskCreates, kT0, 10);
  REQUIRE(tasks.size() == 1);  // one contact: one in flight
  CHECK(tasks[0].key == prefix + "create-task");
}

TEST_CASE("outbox: updates of one contact coalesce with the latest value of each property") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"firstname", "Ada"}, {"city", "London"}}), update("b", "2", {{"city", "Paris"}})});
  record(f.o(), {update("c", "1", {{"firstname", "Grace"}})});
  auto items = take(f.o(), Lane::kContactUpdates);
  REQUIRE(items.size() == 2);
  CHECK(items[0].contact_id == "1");
  CHECK(items[0].key == "c");
  CHECK(items[0].properties == P{{"city", "London"}, {"firstname", "Grace"}});
  CHECK(items[1].contact_id == "2");
  CHECK(items[1].properties == P{{"city", "Paris"}});
}

TEST_CASE("outbox: values recorded while an update is in flight survive its kWritten") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"firstname", "Ada"}, {"city", "London"}})});
  auto items = take(f.o(), Lane::kContactUpdates);
  REQUIRE(items.size() == 1);
  // In flight: not taken again.
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
  record(f.o(), {update("b", "1", {{"city", "Paris"}, {"phone", "1"}})});
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
  complete(f.o(), items[0].id, Completion::Kind::kWritten);
  auto again = take(f.o(), Lane::kContactUpdates);
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == items[0].id);
  CHECK(again[0].properties == P{{"city", "Paris"}, {"phone", "1"}});
  complete(f.o(), again[0].id, Completion::Kind::kWritten);
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
  CHECK(ok(f.o().list({})).empty());
}

TEST_CASE("outbox: a retried update keeps its values and waits for retry_at") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "London"}})});
  auto items = take(f.o(), Lane::kContactUpdates);
  complete(f.o(), items[0].id, Completion::Kind::kRetry, kT0, "", kT0 + 5000, "429");
  CHECK(take(f.o(), Lane::kContactUpdates, kT0 + 4999).empty());
  CHECK(ok(f.o().next_due(kPortal)) == kT0 + 5000);
  auto again = take(f.o(), Lane::kContactUpdates, kT0 + 5000);
  REQUIRE(again.size() == 1);
  CHECK(again[0].attempts == 1);
  CHECK(again[0].properties == P{{"city", "London"}});
}

TEST_CASE("outbox: a forward lifecycle change coalesces with the contact's updates") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "London"}}), lifecycle("b", "1", "marketingqualifiedlead", false)});
  auto items = take(f.o(), Lane::kContactUpdates);
  REQUIRE(items.size() == 1);
  CHECK(items[0].properties == P{{"city", "London"}, {"lifecyclestage", "marketingqualifiedlead"}});
  CHECK(take(f.o(), Lane::kLifecycleClear).empty());
}

TEST_CASE("outbox: a backwards lifecycle change is a clear and then a set in a later request") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "London"}}), lifecycle("b", "1", "customer", false),
                 lifecycle("c", "1", "lead", true)});
  // The forward stage that was still pending is gone from the update.
  auto updates = take(f.o(), Lane::kContactUpdates);
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].properties == P{{"city", "London"}});

  auto clear = take(f.o(), Lane::kLifecycleClear);
  REQUIRE(clear.size() == 1);
  CHECK(clear[0].properties == P{{"lifecyclestage", ""}});
  CHECK(take(f.o(), Lane::kLifecycleSet).empty());
  complete(f.o(), clear[0].id, Completion::Kind::kWritten);
  CHECK(take(f.o(), Lane::kLifecycleClear).empty());
  auto set = take(f.o(), Lane::kLifecycleSet);
  REQUIRE(set.size() == 1);
  CHECK(set[0].id == clear[0].id);
  CHECK(set[0].properties == P{{"lifecyclestage", "lead"}});
  complete(f.o(), set[0].id, Completion::Kind::kWritten);
  CHECK(take(f.o(), Lane::kLifecycleSet).empty());
  CHECK(take(f.o(), Lane::kLifecycleClear).empty());
}

TEST_CASE("outbox: a backwards change removes a lone pending stage and and the update with it") {
  Fixture f;
  record(f.o(), {lifecycle("a", "1", "customer", false), lifecycle("b", "1", "lead", true)});
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
  CHECK(take(f.o(), Lane::kLifecycleClear).size() == 1);
}

TEST_CASE("outbox: a later lifecycle change replaces the target of a pending two-step change") {
  Fixture f;
  record(f.o(), {lifecycle("a", "1", "lead", true)});
  record(f.o(), {lifecycle("b", "1", "subscriber", true)});
  // Forward from the stage the contact had: updates the two-step change, adds no property.
  record(f.o(), {lifecycle("c", "1", "marketingqualifiedlead", false)});
  CHECK(take(f.o(), Lane::kContactUpdates).empty());
  auto clear = take(f.o(), Lane::kLifecycleClear);
  REQUIRE(clear.size() == 1);
  CHECK(clear[0].key == "c");
  complete(f.o(), clear[0].id, Completion::Kind::kWritten);
  auto set = take(f.o(), Lane::kLifecycleSet);
  REQUIRE(set.size() == 1);
  CHECK(set[0].properties == P{{"lifecyclestage", "marketingqualifiedlead"}});

  SECTION("a change while the set is in flight clears and sets again") {
    record(f.o(), {lifecycle("d", "1", "lead", true)});
    complete(f.o(), set[0].id, Completion::Kind::kWritten);
    auto clear2 = take(f.o(), Lane::kLifecycleClear);
    REQUIRE(clear2.size() == 1);
    complete(f.o(), clear2[0].id, Completion::Kind::kWritten);
    auto set2 = take(f.o(), Lane::kLifecycleSet);
    REQUIRE(set2.size() == 1);
    CHECK(set2[0].properties == P{{"lifecyclestage", "lead"}});
  }
  SECTION("without a change the set finishes it") {
    complete(f.o(), set[0].id, Completion::Kind::kWritten);
    CHECK(ok(f.o().list({})).empty());
  }
}

TEST_CASE("outbox: a crash between the clear and the set leaves the set to be taken after a restart") {
  Fixture f;
  record(f.o(), {lifecycle("a", "1", "lead", true)});
  auto clear = take(f.o(), Lane::kLifecycleClear);
  REQUIRE(clear.size() == 1);
  complete(f.o(), clear[0].id, Completion::Kind::kWritten);
  f.reopen();
  CHECK(ok(f.o().release_in_flight()) == 0);
  CHECK(take(f.o(), Lane::kLifecycleClear).empty());
  auto set = take(f.o(), Lane::kLifecycleSet);
  REQUIRE(set.size() == 1);
  CHECK(set[0].properties == P{{"lifecyclestage", "lead"}});
}

TEST_CASE("outbox: a task taken is marked outcome-unknown durably and across a restart") {
  Fixture f;
  record(f.o(), {task("t1", "1", "Call"), task("t2", "2", "Email")});
  auto tasks = take(f.o(), Lane::kTaskCreates, kT0 + 10);
  REQUIRE(tasks.size() == 2);
  CHECK_FALSE(tasks[0].outcome_unknown);
  CHECK(tasks[0].key == "t1");
  CHECK(tasks[0].properties == P{{"hs_timestamp", "2026-12-02T10:00:00Z"}, {"hs_task_subject", "Call"}});
  complete(f.o(), tasks[1].id, Completion::Kind::kWritten, kT0 + 20, "9001");

  f.reopen();  // the process stopped while t1 was in flight
  CHECK(take(f.o(), Lane::kTaskCreates, kT0 + 100).empty());
  CHECK(ok(f.o().release_in_flight()) == 1);
  auto again = take(f.o(), Lane::kTaskCreates, kT0 + 100);
  REQUIRE(again.size() == 1);
  CHECK(again[0].key == "t1");
  CHECK(again[0].outcome_unknown);
  CHECK(again[0].sent_at == kT0 + 10);  // the earlier send, for the settle delay

  SECTION("kUnknown keeps the mark") {
    complete(f.o(), again[0].id, Completion::Kind::kUnknown, kT0 + 200, "", kT0 + 300);
    auto third = take(f.o(), Lane::kTaskCreates, kT0 + 300);
    REQUIRE(third.size() == 1);
    CHECK(third[0].outcome_unknown);
    CHECK(third[0].attempts == 1);
  }
  SECTION("kRetry (looked up: not created) clears it and the next take sends it") {
    complete(f.o(), again[0].id, Completion::Kind::kRetry, kT0 + 200, "", kT0 + 300);
    auto third = take(f.o(), Lane::kTaskCreates, kT0 + 300);
    REQUIRE(third.size() == 1);
    CHECK_FALSE(third[0].outcome_unknown);
  }
  // The written task is kept, done, with its HubSpot id.
  OutboxFilter done;
  done.state = ItemState::kDone;
  auto listed = ok(f.o().list(done));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].key == "t2");
  CHECK(listed[0].hubspot_id == "9001");
}

TEST_CASE("outbox: one item per contact in flight per lane and oldest first and at most max") {
  Fixture f;
  record(f.o(), {task("t1", "1", "A"), task("t2", "1", "B"), task("t3", "2", "C"), task("t4", "3", "D")});
  auto first = take(f.o(), Lane::kTaskCreates, kT0, 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].key == "t1");
  CHECK(first[1].key == "t3");
  auto second = take(f.o(), Lane::kTaskCreates);
  REQUIRE(second.size() == 1);
  CHECK(second[0].key == "t4");  // t2 waits for t1 of the same contact
  complete(f.o(), first[0].id, Completion::Kind::kWritten, kT0, "1");
  auto third = take(f.o(), Lane::kTaskCreates);
  REQUIRE(third.size() == 1);
  CHECK(third[0].key == "t2");
}

TEST_CASE("outbox: release_in_flight gives back what a stopped process left") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "London"}}), lifecycle("b", "2", "lead", true)});
  CHECK(take(f.o(), Lane::kContactUpdates).size() == 1);
  CHECK(take(f.o(), Lane::kLifecycleClear).size() == 1);
  f.reopen();
  CHECK(ok(f.o().release_in_flight()) == 2);
  CHECK(take(f.o(), Lane::kContactUpdates).size() == 1);
  CHECK(take(f.o(), Lane::kLifecycleClear).size() == 1);
}

TEST_CASE("outbox: a dead update keeps its values visible and retry puts them back under newer values and drop") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "London"}, {"phone", "1"}})});
  auto items = take(f.o(), Lane::kContactUpdates);
  record(f.o(), {update("b", "1", {{"city", "Paris"}})}, kT0 + 5);
  complete(f.o(), items[0].id, Completion::Kind::kDead, kT0 + 10, "", 0, "PROPERTY_DOESNT_EXIST (c-1)", 400);

  OutboxFilter dead;
  dead.state = ItemState::kDead;
  auto listed = ok(f.o().list(dead));
  REQUIRE(listed.size() == 1);
  // The values taken, less the one superseded while in flight (Paris replaced London: sending
  // London again would be wrong in any case).
  CHECK(listed[0].properties == P{{"phone", "1"}});
  CHECK(listed[0].last_error == "PROPERTY_DOESNT_EXIST (c-1)");
  CHECK(listed[0].last_status == 400);
  CHECK(listed[0].attempts == 1);
  auto stats = ok(f.o().stats(kT0 + 10));
  REQUIRE(stats.lanes.size() == 1);
  CHECK(stats.lanes[0].pending == 1);
  CHECK(stats.lanes[0].dead == 1);

  // The value recorded while it was in flight is still pending, alone.
  auto pending = take(f.o(), Lane::kContactUpdates, kT0 + 10);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].properties == P{{"city", "Paris"}});
  complete(f.o(), pending[0].id, Completion::Kind::kRetry, kT0 + 10, "", kT0 + 10);

  SECTION("retry") {
    CHECK(ok(f.o().retry(listed[0].id, std::nullopt)) == 1);
    CHECK(ok(f.o().list(dead)).empty());
    auto again = take(f.o(), Lane::kContactUpdates, kT0 + 10);
    REQUIRE(again.size() == 1);
    CHECK(again[0].properties == P{{"city", "Paris"}, {"phone", "1"}});
  }
  SECTION("drop") {
    CHECK(ok(f.o().drop(listed[0].id, std::nullopt)) == 1);
    CHECK(ok(f.o().list(dead)).empty());
    CHECK(ok(f.o().drop(std::nullopt, kPortal)) == 1);  // the pending one
    CHECK(take(f.o(), Lane::kContactUpdates, kT0 + 10).empty());
    // Their keys stay recorded.
    CHECK(record(f.o(), {update("a", "1", {{"city", "x"}})}).already_recorded == 1);
  }
}

TEST_CASE("outbox: values retried by another process are not taken for sent by an item in flight") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"phone", "1"}})});
  auto first = take(f.o(), Lane::kContactUpdates);
  complete(f.o(), first[0].id, Completion::Kind::kDead, kT0, "", 0, "INVALID_PHONE", 400);
  // An admin command: a second outbox on a database of its own, on the same file, opened before
  // the running one records and takes more.
  MetricsRegistry metrics;
  store::Database admin_db(f.config, metrics);
  store::SqliteOutbox admin(admin_db);
  record(f.o(), {update("b", "1", {{"city", "Paris"}})});
  auto in_flight = take(f.o(), Lane::kContactUpdates);
  REQUIRE(in_flight.size() == 1);
  CHECK(ok(admin.retry(std::nullopt, std::nullopt)) == 1);
  complete(f.o(), in_flight[0].id, Completion::Kind::kWritten);
  auto again = take(f.o(), Lane::kContactUpdates);
  REQUIRE(again.size() == 1);
  CHECK(again[0].properties == P{{"phone", "1"}});
}

TEST_CASE("outbox: dead tasks and lifecycle changes go back to pending with attempts reset") {
  Fixture f;
  record(f.o(), {task("t1", "1", "A"), lifecycle("l1", "2", "lead", true)});
  auto t = take(f.o(), Lane::kTaskCreates);
  auto l = take(f.o(), Lane::kLifecycleClear);
  complete(f.o(), t[0].id, Completion::Kind::kDead, kT0, "", 0, "bad owner", 400);
  complete(f.o(), l[0].id, Completion::Kind::kDead, kT0, "", 0, "bad stage", 400);
  CHECK(take(f.o(), Lane::kTaskCreates).empty());
  CHECK(ok(f.o().retry(std::nullopt, std::nullopt)) == 2);
  auto t2 = take(f.o(), Lane::kTaskCreates);
  REQUIRE(t2.size() == 1);
  CHECK(t2[0].attempts == 0);
  CHECK(take(f.o(), Lane::kLifecycleClear).size() == 1);
}

TEST_CASE("outbox: stats per portal and lane with the oldest pending age and list pages and filters") {
  Fixture f;
  record(f.o(), {update("a", "1", {{"city", "A"}})}, kT0);
  record(f.o(), {update("b", "2", {{"city", "B"}}), task("t", "1", "T")}, kT0 + 1000);
  record(f.o(), {update("c", "9", {{"city", "C"}}, 7)}, kT0 + 2000);
  auto stats = ok(f.o().stats(kT0 + 5000));
  REQUIRE(stats.lanes.size() == 3);
  CHECK(stats.lanes[0].portal_id == 7);
  CHECK(stats.lanes[0].oldest_pending_age == 3000ms);
  CHECK(stats.lanes[1].portal_id == kPortal);
  CHECK(stats.lanes[1].lane == Lane::kContactUpdates);
  CHECK(stats.lanes[1].pending == 2);
  CHECK(stats.lanes[1].oldest_pending_age == 5000ms);
  CHECK(stats.lanes[2].lane == Lane::kTaskCreates);
  CHECK(stats.lanes[2].oldest_pending_age == 4000ms);
  auto portals = ok(f.o().portals());
  std::sort(portals.begin(), portals.end());
  CHECK(portals == std::vector<std::int64_t>{7, kPortal});

  OutboxFilter page;
  page.limit = 2;
  auto first = ok(f.o().list(page));
  REQUIRE(first.size() == 2);
  page.after_id = first[1].id;
  auto second = ok(f.o().list(page));
  REQUIRE(second.size() == 2);
  CHECK(second[0].id > first[1].id);
  page.after_id = second[1].id;
  CHECK(ok(f.o().list(page)).empty());

  OutboxFilter tasks;
  tasks.lane = Lane::kTaskCreates;
  CHECK(ok(f.o().list(tasks)).size() == 1);
  OutboxFilter other;
  other.portal_id = 7;
  auto listed = ok(f.o().list(other));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].properties == P{{"city", "C"}});
  CHECK(listed[0].recorded_at == kT0 + 2000);
  take(f.o(), Lane::kContactUpdates);
  OutboxFilter in_flight;
  in_flight.state = ItemState::kInFlight;
  CHECK(ok(f.o().list(in_flight)).size() == 2);
}

TEST_CASE("outbox: purge forgets done tasks and old keys and not pending work") {
  Fixture f;
  record(f.o(), {task("t1", "1", "A"), update("u1", "1", {{"city", "A"}})}, kT0);
  auto t = take(f.o(), Lane::kTaskCreates, kT0);
  complete(f.o(), t[0].id, Completion::Kind::kWritten, kT0, "1");
  record(f.o(), {task("t2", "2", "B")}, kT0 + 10'000);
  CHECK(ok(f.o().purge(5s, kT0 + 1000)) == 0);
  // Done task and the keys t1, u1 go; the pending update and t2 stay.
  CHECK(ok(f.o().purge(5s, kT0 + 6000)) == 3);
  auto listed = ok(f.o().list({}));
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].key == "u1");
  CHECK(listed[1].key == "t2");
  // A purged key is new again.
  CHECK(record(f.o(), {task("t1", "1", "A")}).recorded == 1);
  CHECK(record(f.o(), {task("t2", "2", "B")}).already_recorded == 1);
}

TEST_CASE("outbox: intents recorded in a unit of work exist exactly when it commits") {
  Fixture f;
  std::vector<Intent> intents{update("a", "1", {{"city", "A"}}), task("t", "1", "T")};
  auto rolled_back = f.db->run([&](UnitOfWork& unit) {
    auto r = f.o().record(unit, intents, kT0);
    REQUIRE(r.has_value());
    CHECK(r->recorded == 2);
    return false;
  });
  REQUIRE(rolled_back.has_value());
  CHECK_FALSE(*rolled_back);
  CHECK(ok(f.o().list({})).empty());
  // Nothing was kept of the keys either.
  auto committed = f.db->run([&](UnitOfWork& unit) { return f.o().record(unit, intents, kT0).has_value(); });
  REQUIRE(committed.has_value());
  CHECK(*committed);
  CHECK(ok(f.o().list({})).size() == 2);
}

TEST_CASE("outbox: lanes and states round-trip through their names and the task marker") {
  for (Lane lane : kLanes) CHECK(parse_lane(to_string(lane)) == lane);
  CHECK_FALSE(parse_lane("contacts"));
  for (ItemState s : {ItemState::kPending, ItemState::kInFlight, ItemState::kDead, ItemState::kDone}) {
    CHECK(parse_item_state(to_string(s)) == s);
  }
  CHECK_FALSE(parse_item_state("gone"));
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
  CHECK(task_marker("abc") == "[tandem:ba7816bf8f01cfea414140de5dae2223]");
  CHECK(task_marker("abc") != task_marker("abd"));
}
