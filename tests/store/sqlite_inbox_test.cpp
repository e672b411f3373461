#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/stat.h>

#include "store/sqlite.hpp"
#include "store/sqlite_inbox.hpp"
#include "tests/support/file_inbox.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/webhooks/webhook_test_support.hpp"

using namespace tandem;
using namespace tandem::webhooks;
using tandem::testing::FileInbox;
using tandem::testing::ok;
using tandem::store::StoreConfig;
using namespace std::chrono_literals;

namespace {

using testing::make_event;

std::vector<AppendOutcome> append(Inbox& inbox, std::vector<std::vector<Event>> batches) {
  std::vector<const std::vector<Event>*> pointers;
  for (auto& b : batches) pointers.push_back(&b);
  return ok(inbox.append(pointers));
}

struct Fixture {
  testing::TempDir dir;
  ManualClock clock;
  StoreConfig config;
  int max_attempts = 3;
  Fixture() { config.path = dir.file("inbox.db"); }
};

}  // namespace

TEST_CASE("append stores events and deduplicates on the composite key") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  auto outcomes = append(inbox, {{make_event(1), make_event(2)}, {make_event(3)}});
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].stored == 2);
  CHECK(outcomes[1].stored == 1);

  // Same key again, across requests and within one request and one transaction.
  outcomes = append(inbox, {{make_event(1), make_event(4), make_event(4)}, {make_event(4)}});
  CHECK(outcomes[0].stored == 1);
  CHECK(outcomes[0].duplicates == 2);
  CHECK(outcomes[1].duplicates == 1);

  // eventId alone is not unique: each other key component makes a new event.
  Event other_object = make_event(1, 2);
  Event other_time = make_event(1, 1, 2000);
  Event other_portal = make_event(1, 1, 1000, 99);
  Event other_subscription = make_event(1);
  other_subscription.subscription_id = 26;
  Event other_type = make_event(1);
  other_type.subscription_type = "contact.creation";
  Event retry = make_event(1);
  retry.attempt_number = 3;  // a redelivery: same key, a duplicate
  outcomes = append(inbox, {{other_object, other_time, other_portal, other_subscription, other_type, retry}});
  CHECK(outcomes[0].stored == 5);
  CHECK(outcomes[0].duplicates == 1);
  CHECK(ok(inbox.stats()).unprocessed == 9);
}

TEST_CASE("the dedup key tells apart every value of every part, known subscription types or not") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  const std::int64_t values[] = {0, 1, -1, 255, 256, -256, 65535, 1LL << 40, INT64_MAX, INT64_MIN};
  std::vector<Event> batch;
  for (std::int64_t v : values) {
    batch.push_back(make_event(v));           // eventId
    batch.push_back(make_event(7, v, 1000));  // objectId
    batch.push_back(make_event(7, 1, v));     // occurredAt
  }
  // Types: one with a one-byte code, its name with a suffix, and unknown ones.
  for (std::string type : {"contact.creation", "contact.creationX", "x", "", "\x01"}) {
    Event e = make_event(8);
    e.subscription_type = type;
    batch.push_back(e);
  }
  CHECK(append(inbox, {batch})[0].stored == batch.size());
  auto again = append(inbox, {batch})[0];
  CHECK(again.stored == 0);
  CHECK(again.duplicates == batch.size());
}

TEST_CASE("events survive closing and reopening, field by field") {
  Fixture f;
  Event e = make_event(3816279340, 546500061938, 1788597072520, 247279312);
  e.app_id = 51879189;
  e.attempt_number = 2;
  e.object_type_id = "0-1";
  e.source_id = "userId:98499705";
  e.property_value = std::nullopt;
  e.known_type = false;
  e.payload = testing::payload_of(e);
  {
    FileInbox inbox(f.config, f.clock, f.max_attempts);
    append(inbox, {{e}});
  }
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  auto listed = ok(inbox.list({}));
  REQUIRE(listed.size() == 1);
  const Event& r = listed[0].event;
  CHECK(r.event_id == e.event_id);
  CHECK(r.object_id == e.object_id);
  CHECK(r.occurred_at == e.occurred_at);
  CHECK(r.portal_id == e.portal_id);
  CHECK(r.app_id == e.app_id);
  CHECK(r.attempt_number == 2);
  CHECK(r.subscription_id == 25);
  CHECK(r.subscription_type == "contact.propertyChange");
  CHECK(r.property_name == "lifecyclestage");
  CHECK_FALSE(r.property_value.has_value());
  CHECK(r.object_type_id == "0-1");
  CHECK(r.source_id == "userId:98499705");
  CHECK_FALSE(r.known_type);
  CHECK(r.payload == e.payload);
  CHECK(listed[0].state == EventState::kPending);
  CHECK(listed[0].received_at == to_epoch_ms(f.clock.now()));
  CHECK(ok(inbox.stats()).unknown_types == 1);
  // Still deduplicated after the reopen.
  CHECK(append(inbox, {{e}})[0].duplicates == 1);
}

TEST_CASE("the database runs in WAL mode with synchronous FULL by default") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  store::Connection db(f.config.path);
  store::Statement mode(db, "PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.column_text(0) == "wal");
  CHECK(std::filesystem::exists(f.config.path + "-wal"));
  store::Statement page(db, "PRAGMA page_size");
  REQUIRE(page.step());
  CHECK(page.column_int(0) == 16384);
}

TEST_CASE("claim leases the oldest events, acknowledge completes them") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1), make_event(2), make_event(3)}});
  auto first = ok(inbox.claim(2, 30s, "worker-a"));
  REQUIRE(first.size() == 2);
  CHECK(first[0].event.event_id == 1);
  CHECK(first[1].event.event_id == 2);
  CHECK(first[0].state == EventState::kClaimed);
  CHECK(first[0].attempts == 1);
  auto second = ok(inbox.claim(10, 30s, "worker-b"));
  REQUIRE(second.size() == 1);
  CHECK(second[0].event.event_id == 3);
  CHECK(ok(inbox.claim(10, 30s, "worker-c")).empty());

  CHECK(inbox.acknowledge(first[0].id, "worker-a"));
  CHECK(inbox.acknowledge(first[0].id, "worker-a").error().kind == InboxError::Kind::kLeaseLost);  // already done
  CHECK(inbox.acknowledge(first[1].id, "worker-b").error().kind == InboxError::Kind::kLeaseLost);  // not the lease holder
  auto s = ok(inbox.stats());
  CHECK(s.done == 1);
  CHECK(s.claimed == 2);
  CHECK(s.unprocessed == 2);
}

TEST_CASE("an event not acknowledged within its lease returns to the queue") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1)}});
  auto claimed = ok(inbox.claim(10, 30s, "worker-a"));
  REQUIRE(claimed.size() == 1);
  f.clock.advance(29s);
  CHECK(ok(inbox.claim(10, 30s, "worker-b")).empty());
  f.clock.advance(1s);
  auto again = ok(inbox.claim(10, 30s, "worker-b"));
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == claimed[0].id);
  CHECK(again[0].attempts == 2);
  // The first worker lost its lease: its acknowledgement is refused.
  CHECK(inbox.acknowledge(claimed[0].id, "worker-a").error().kind == InboxError::Kind::kLeaseLost);
  CHECK(inbox.acknowledge(again[0].id, "worker-b"));
}

TEST_CASE("failures are retried after the delay, then dead-lettered with the reason") {
  Fixture f;  // max_attempts = 3
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1)}});
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto claimed = ok(inbox.claim(10, 30s, "w"));
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].attempts == attempt);
    CHECK(inbox.retry_later(claimed[0].id, "w", "HubSpot answered 502", 10s));
    CHECK(ok(inbox.claim(10, 30s, "w")).empty());  // not before the retry delay
    f.clock.advance(10s);
  }
  auto last = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(last.size() == 1);
  CHECK(last[0].last_error == "HubSpot answered 502");
  CHECK(inbox.retry_later(last[0].id, "w", "contact 1 not found", 10s));
  f.clock.advance(1h);
  CHECK(ok(inbox.claim(10, 30s, "w")).empty());
  auto dead = ok(inbox.list({.state = EventState::kDead}));
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].last_error == "failed 3 times; last error: contact 1 not found");
  CHECK(ok(inbox.stats()).dead == 1);
  CHECK(inbox.retry_later(last[0].id, "w", "again", 1s).error().kind == InboxError::Kind::kLeaseLost);  // no longer claimed

  SECTION("replay puts it back with a fresh attempt count") {
    CHECK(ok(inbox.replay(std::nullopt, EventState::kDead)) == 1);
    auto replayed = ok(inbox.claim(10, 30s, "w"));
    REQUIRE(replayed.size() == 1);
    CHECK(replayed[0].attempts == 1);
    CHECK(ok(inbox.replay(replayed[0].id, EventState::kDead)) == 0);
  }
}

TEST_CASE("an event whose lease keeps expiring is dead-lettered too") {
  Fixture f;  // max_attempts = 3
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1)}});
  for (int i = 0; i < 3; ++i) {
    REQUIRE(ok(inbox.claim(10, 5s, "crashy")).size() == 1);
    f.clock.advance(5s);
  }
  CHECK(ok(inbox.claim(10, 5s, "crashy")).empty());
  auto dead = ok(inbox.list({.state = EventState::kDead}));
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].last_error == "lease expired after 3 claims");
}

TEST_CASE("own echoes are stored as skipped and never claimed") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  Event echo = make_event(1);
  echo.own_echo = true;
  auto first = append(inbox, {{echo, make_event(2)}});
  CHECK(first[0].stored == 2);
  CHECK(first[0].own_echoes == 1);
  auto again = append(inbox, {{make_event(3), echo}});  // the echo redelivered, beside a new event
  CHECK(again[0].stored == 1);
  CHECK(again[0].own_echoes == 0);
  auto claimed = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(claimed.size() == 2);
  CHECK(claimed[0].event.event_id == 2);
  auto skipped = ok(inbox.list({.state = EventState::kSkipped}));
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].event.own_echo);
  CHECK(ok(inbox.stats()).skipped == 1);
  CHECK(ok(inbox.replay(skipped[0].id, EventState::kSkipped)) == 1);
  CHECK(ok(inbox.claim(10, 30s, "w")).size() == 1);
}

TEST_CASE("claims find events that arrive after the queue ran dry, and take retries before fresh events") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  Event echo = make_event(1);
  echo.own_echo = true;
  append(inbox, {{echo, make_event(2), make_event(3)}});
  auto first = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(first.size() == 2);
  CHECK(ok(inbox.claim(10, 30s, "w")).empty());
  append(inbox, {{make_event(4)}});
  REQUIRE(inbox.retry_later(first[0].id, "w", "HubSpot answered 502", 0ms));
  REQUIRE(inbox.acknowledge(first[1].id, "w"));
  // The retry arrived first, so it comes first even when only one is taken.
  auto retried = ok(inbox.claim(1, 30s, "w"));
  REQUIRE(retried.size() == 1);
  CHECK(retried[0].event.event_id == 2);
  CHECK(retried[0].attempts == 2);
  auto fresh = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].event.event_id == 4);
  // A second process claiming from the same file continues where this one stopped.
  append(inbox, {{make_event(5), make_event(6)}});
  FileInbox other(f.config, f.clock, f.max_attempts);
  auto theirs = ok(other.claim(1, 30s, "x"));
  REQUIRE(theirs.size() == 1);
  CHECK(theirs[0].event.event_id == 5);
  auto mine = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].event.event_id == 6);
}

TEST_CASE("after purge removed every row, new events are still claimed") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1), make_event(2)}});
  for (const auto& e : ok(inbox.claim(10, 30s, "w"))) REQUIRE(inbox.acknowledge(e.id, "w"));
  f.clock.advance(49h);
  REQUIRE(ok(inbox.purge(48h)) == 2);
  // The table is empty, so SQLite numbers the next row 1 again, below where claims had got to.
  append(inbox, {{make_event(3)}});
  auto claimed = ok(inbox.claim(10, 30s, "w"));
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].event.event_id == 3);
  CHECK(ok(inbox.stats()).unprocessed == 1);
}

TEST_CASE("stats report depth and the age of the oldest unprocessed event") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  CHECK(ok(inbox.stats()).oldest_unprocessed_age == 0ms);
  append(inbox, {{make_event(1)}});
  f.clock.advance(90s);
  append(inbox, {{make_event(2)}});
  f.clock.advance(10s);
  auto s = ok(inbox.stats());
  CHECK(s.unprocessed == 2);
  CHECK(s.oldest_unprocessed_age == 100s);
  auto claimed = ok(inbox.claim(1, 30s, "w"));
  inbox.acknowledge(claimed[0].id, "w");
  CHECK(ok(inbox.stats()).oldest_unprocessed_age == 10s);
}

TEST_CASE("list pages by id and filters by state") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  std::vector<Event> batch;
  for (int i = 1; i <= 25; ++i) batch.push_back(make_event(i));
  append(inbox, {batch});
  auto page1 = ok(inbox.list({.limit = 10}));
  REQUIRE(page1.size() == 10);
  auto page2 = ok(inbox.list({.after_id = page1.back().id, .limit = 10}));
  REQUIRE(page2.size() == 10);
  CHECK(page2.front().id > page1.back().id);
  CHECK(ok(inbox.list({.after_id = page2.back().id, .limit = 10})).size() == 5);
  CHECK(ok(inbox.list({.state = EventState::kDone})).empty());
}

TEST_CASE("purge keeps the dedup key at least 48 hours and never drops unprocessed events") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  append(inbox, {{make_event(1), make_event(2)}});
  auto claimed = ok(inbox.claim(1, 30s, "w"));
  REQUIRE(inbox.acknowledge(claimed[0].id, "w"));
  f.clock.advance(47h);
  CHECK(ok(inbox.purge(1h)) == 0);  // a shorter retention is raised to 48 h
  CHECK(append(inbox, {{make_event(1)}})[0].duplicates == 1);
  f.clock.advance(1h + 1ms);
  CHECK(ok(inbox.purge(48h)) == 1);
  CHECK(ok(inbox.stats()).unprocessed == 1);  // event 2 was never processed: kept
  CHECK(append(inbox, {{make_event(1)}})[0].stored == 1);
}

TEST_CASE("a failing transaction stores nothing and reports the error") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  REQUIRE(inbox.writable());
  // Another connection holds the write lock past the busy timeout.
  f.config.busy_timeout = 50ms;
  FileInbox impatient(f.config, f.clock, f.max_attempts);
  store::Connection other(f.config.path);
  other.exec("BEGIN IMMEDIATE");
  std::vector<Event> batch{make_event(1)};
  const std::vector<Event>* pointers[] = {&batch};
  auto appended = impatient.append(pointers);
  REQUIRE(appended.has_error());
  CHECK(appended.error().kind == InboxError::Kind::kStorage);
  CHECK_FALSE(appended.error().message.empty());
  CHECK_FALSE(impatient.writable());
  other.exec("ROLLBACK");
  CHECK(impatient.writable());
  CHECK(ok(impatient.stats()).unprocessed == 0);
}

TEST_CASE("opening a database that cannot be created is a start-up error") {
  Fixture f;
  StoreConfig config = f.config;
  config.path = f.dir.file("missing-dir/inbox.db");
  CHECK_THROWS_AS(FileInbox(config, f.clock), store::SqliteError);
}

TEST_CASE("the WAL is checkpointed into the database in the background") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  const auto initial = std::filesystem::file_size(f.config.path);
  std::vector<Event> batch;
  for (int i = 0; i < 100; ++i) {
    batch.push_back(make_event(i));
    batch.back().payload = std::string(2000, 'x');
  }
  // ~40 MB of WAL: beyond the 32 MiB (2048 pages of 16 KiB) that wake the checkpointer.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 100; ++i) batch[i].event_id = round * 100 + i;
    append(inbox, {batch});
  }
  const bool copied =
      testing::wait_until([&] { return std::filesystem::file_size(f.config.path) > initial + 1024 * 1024; }, 3s, 10ms);
  CHECK(copied);
  CHECK(ok(inbox.stats()).unprocessed == 20000);
}

TEST_CASE("an inbox of an earlier layout is refused at start-up, never read as empty") {
  Fixture f;
  {
    store::Connection old(f.config.path);
    old.exec("CREATE TABLE inbox_events (id INTEGER PRIMARY KEY, portal_id INTEGER NOT NULL)");
    old.exec("INSERT INTO inbox_events (portal_id) VALUES (1)");
  }
  try {
    FileInbox inbox(f.config, f.clock, f.max_attempts);
    FAIL("opened an inbox of layout version 0");
  } catch (const store::SqliteError& e) {
    CHECK_THAT(e.what(), Catch::Contains("layout version 0") && Catch::Contains("reads version 4"));
  }
  // A new file gets the current layout, and reopening it is fine.
  Fixture g;
  { FileInbox inbox(g.config, g.clock, g.max_attempts); }
  FileInbox inbox(g.config, g.clock, g.max_attempts);
  CHECK(ok(inbox.stats()).unprocessed == 0);
}

TEST_CASE("append_committed is visible at once, sync makes it durable, a later flush covering earlier tickets") {
  Fixture f;
  FileInbox inbox(f.config, f.clock, f.max_attempts);
  std::vector<Event> first{make_event(1)};
  std::vector<Event> second{make_event(2), make_event(1)};
  const std::vector<Event>* one[] = {&first};
  const std::vector<Event>* two[] = {&second};
  const AppendTicket t1 = ok(inbox.append_committed(one)).ticket;
  const Appended appended = ok(inbox.append_committed(two));
  const AppendTicket t2 = appended.ticket;
  const std::vector<AppendOutcome>& outcomes = appended.outcomes;
  CHECK(t2.sequence > t1.sequence);
  CHECK(outcomes[0].stored == 1);
  CHECK(outcomes[0].duplicates == 1);  // event 1 of the first, still unflushed, transaction
  // Committed transactions are visible to other connections (and survive a crash of the process)
  // before any flush.
  {
    FileInbox other(f.config, f.clock, f.max_attempts);
    CHECK(ok(other.list({})).size() == 2);
  }
  CHECK(inbox.sync(t2));
  CHECK(inbox.sync(t1));  // covered by the flush for t2
  CHECK(ok(inbox.stats()).unprocessed == 2);
}
