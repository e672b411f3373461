#pragma once
// The one SQLite database of a Tandem deployment (WAL mode), shared by every table in store/:
// the inbox now; the outbox, timers, tokens and audit as they land.
//
// - One writer connection behind one mutex. Every write of every component goes through it, so a
//   unit of work (common/unit_of_work.hpp) can span the inbox, the outbox, timers and audit.
// - Durability is Tandem's own (see StoreConfig::synchronous): the writer runs with SQLite's
//   synchronous=NORMAL and sync() flushes the WAL (fdatasync) once for every transaction
//   committed so far, so one component commits while the disk flushes another's.
// - One checkpointer thread with its own connection copies the WAL back into the database
//   outside every transaction, and lets the WAL start over under a steady stream of writes.
// - One reader connection for reports (stats, lists): in WAL mode readers never wait for the
//   writer.
// - Migrations numbered per component, recorded in the table store_migrations, run at start-up by
//   each component's constructor (migrate()).
//
// Thread-safe. Components prepare their statements on writer() or reader() and must be destroyed
// before the Database (a statement outlives nothing it was prepared on).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/unit_of_work.hpp"
#include "store/config.hpp"
#include "store/sqlite.hpp"

struct sqlite3;

namespace tandem::store {

// One step of a component's schema. Versions start at 1 and grow by 1; a step runs once, in its
// own transaction with the component's new version, and is never edited after it shipped.
// The PRAGMA user_version that builds before per-component migrations wrote: the inbox's layout
// that its migration 1 creates. Such a file is adopted as it is.
inline constexpr int kSingleInboxLayout = 4;

struct Migration {
  int version;
  std::string_view sql;
};

// The unit of work of this backend: the writer connection, inside its transaction.
class SqliteUnitOfWork final : public UnitOfWork {
 public:
  explicit SqliteUnitOfWork(Connection& connection) : connection_(connection) {}
  [[nodiscard]] Connection& connection() const { return connection_; }
  // The SQLite unit behind a UnitOfWork handed to a store/ component. Passing another backend's
  // unit is a programming error (the composition root wires one backend).
  static SqliteUnitOfWork& of(UnitOfWork& unit);

 private:
  Connection& connection_;
};

class Database final : public UnitsOfWork {
 public:
  // Opens or creates the file, sets WAL mode, adopts a file written by the single-component
  // layout of earlier builds, and starts the checkpointer. Throws SqliteError on failure (a
  // start-up error). metrics must outlive the database.
  Database(const StoreConfig& config, MetricsRegistry& metrics);
  ~Database() override;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] const StoreConfig& config() const { return config_; }

  // Brings `component`'s tables to the last version in `steps` (start-up; throws SqliteError,
  // also when the file was migrated by a newer build that knows more steps).
  // `before` runs inside the migration transaction before any step, with the version found
  // (0 for none): a component uses it to refuse a layout it cannot read.
  void migrate(std::string_view component, std::span<const Migration> steps,
               const std::function<void(Connection&, int found)>& before = {});
  // The version of `component` recorded in the file (0 when none).
  int version(std::string_view component);

  // Runs f(writer) holding the writer's mutex; f starts and ends its own transaction
  // (store::Transaction) and calls note_commit() after a commit.
  template <class F>
  decltype(auto) with_writer(F&& f) {
    std::lock_guard lock(writer_mutex_);
    return f(*writer_);
  }
  // Counts a committed write transaction; returns its sequence number for sync().
  std::uint64_t note_commit();
  // Returns once every transaction up to `sequence` is durable (no-op with synchronous: normal).
  // One flush covers every transaction committed before it starts. Blocks on the disk.
  Result<void, StorageError> sync(std::uint64_t sequence);

  // Runs f(reader) holding the reader's mutex.
  template <class F>
  decltype(auto) with_reader(F&& f) {
    std::lock_guard lock(reader_mutex_);
    return f(*reader_);
  }

  Result<bool, StorageError> run(const std::function<bool(UnitOfWork&)>& work) override;

  // True when a write transaction can be started now (for /readyz): the file is writable and
  // not locked by another process.
  bool writable();

 private:
  static int on_wal_commit(void* self, ::sqlite3* db, const char* name, int pages);
  void adopt_earlier_layout();
  void run_checkpointer();
  void checkpoint_pass(Connection& db, int& wal_pages);

  StoreConfig config_;
  Logger log_{"store"};
  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;
  std::mutex reader_mutex_;
  std::unique_ptr<Connection> reader_;

  // Durability (kFull): write transactions committed so far, and how many of them a flush of the
  // WAL (wal_fd_, -1 with kNormal) is known to cover.
  std::atomic<std::uint64_t> committed_{0};
  std::mutex sync_mutex_;
  std::uint64_t synced_ = 0;
  int wal_fd_ = -1;

  Counter& checkpoint_failures_;
  Gauge& checkpointer_down_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace tandem::store
