#pragma once
// Test helpers for the storage layer: an inbox with a database of its own (as a process opens
// one), and ok(), which unwraps a Result or fails the test with the error's message.

#include <catch2/catch.hpp>

#include "common/metrics.hpp"
#include "common/result.hpp"
#include "store/database.hpp"
#include "store/sqlite_inbox.hpp"

namespace tandem::testing {

template <class T, class E>
T ok(Result<T, E> result) {
  if (!result) FAIL("unexpected error: " << result.error().message);
  return std::move(*result);
}

namespace detail {
struct OwnDatabase {
  explicit OwnDatabase(const store::StoreConfig& config) : database(config, metrics) {}
  MetricsRegistry metrics;
  store::Database database;
};
}  // namespace detail

// A SqliteInbox on a Database of its own: two FileInbox objects on one file behave like two
// processes sharing it. The database is opened first and closed last (base order).
class FileInbox : private detail::OwnDatabase, public store::SqliteInbox {
 public:
  FileInbox(const store::StoreConfig& config, const Clock& clock, int max_attempts = 5)
      : OwnDatabase(config), SqliteInbox(database, clock, max_attempts) {}
  using OwnDatabase::database;
  using OwnDatabase::metrics;
};

}  // namespace tandem::testing
