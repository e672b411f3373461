#include "store/database.hpp"

#include <cassert>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "common/thread_name.hpp"

namespace tandem::store {
namespace {

// PRAGMA user_version of a file whose layout is recorded per component in store_migrations.
// Builds before it kept one component (the inbox) and wrote its layout here: 4 is the layout
// that the inbox's first migration creates, so such a file is adopted as it is; 0 (with tables),
// 2 and 3 are refused by the inbox. A build that reads up to 4 refuses a file marked 5.
constexpr int kLayoutVersion = 5;

constexpr std::string_view kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS store_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)";

std::int64_t scalar(Connection& db, std::string_view sql) {
  Statement s(db, sql);
  return s.step() ? s.column_int(0) : 0;
}

// A checkpoint pass per 32 MiB of WAL (SQLite's automatic one is per ~4 MB): every pass ends with
// an fsync of the database and writes the pages every commit touches (the right edges of the
// b-trees) again. Measured under load: 16 MiB gave ~10% more events/s than 4 MB, 32 MiB ~5% more
// than 16 MiB (three interleaved runs each).
constexpr int kCheckpointPages = 2048;
// WAL size (64 MiB) from which a checkpoint holds the writer back (~15-30 ms here) to let the WAL
// restart: at 16 MiB the writer stood still ~10% of the time under a steady 75 MB/s of events.
constexpr int kRestartPages = 4096;
// Before the held pass: at most this many catch-up passes, stopping once one finds no more than
// kHeldResidualPages (4 MiB) new.
constexpr int kCatchUpPasses = 6;
constexpr int kHeldResidualPages = 256;

}  // namespace

SqliteUnitOfWork& SqliteUnitOfWork::of(UnitOfWork& unit) {
  auto* sqlite = dynamic_cast<SqliteUnitOfWork*>(&unit);
  assert(sqlite != nullptr && "a unit of work of another storage backend");
  return *sqlite;
}

Database::Database(const StoreConfig& config, MetricsRegistry& metrics)
    : config_(config),
      checkpoint_failures_(metrics.counter("tandem_store_checkpoint_failures_total",
                                           "WAL checkpoint passes that failed (the WAL grows until one succeeds)")),
      checkpointer_down_(metrics.gauge("tandem_store_checkpointer_down",
                                       "1 when the WAL checkpointer could not start (the WAL only grows)")) {
  writer_ = std::make_unique<Connection>(config_.path);
  sqlite3_busy_timeout(writer_->handle(), static_cast<int>(config_.busy_timeout.count()));
  // 16 KiB pages for a new file (no effect on an existing one): a group commit writes its rows as
  // a quarter of the WAL frames, and so of the write() calls, that 4 KiB pages need; measured
  // ~20% less CPU per appended event, and a quarter less wall time.
  writer_->exec("PRAGMA page_size = 16384");
  writer_->exec("PRAGMA journal_mode = WAL");
  // NORMAL on this connection in both modes: commits write the WAL without flushing it. With
  // kFull, sync() flushes the WAL itself (fdatasync) before anything is acknowledged, so the next
  // group commits while the disk flushes the previous one. That is as durable as SQLite's FULL:
  // a flush covers every frame written before it starts, recovery replays the WAL up to the last
  // complete commit, and the WAL is restarted (overwritten) only after a checkpoint, which in
  // NORMAL mode syncs the WAL before copying it and the database after.
  writer_->exec("PRAGMA synchronous = NORMAL");
  // Index pages of the dedup key stay hot; 8 MiB keeps RSS well under the 50 MB budget.
  writer_->exec("PRAGMA cache_size = -8192");
  adopt_earlier_layout();
  if (config_.synchronous == StoreConfig::Synchronous::kFull) {
    // The layout transaction above created the WAL; it stays (same inode) while a connection is open.
    const std::string wal = config_.path + "-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) throw SqliteError(SQLITE_CANTOPEN, "cannot open " + wal + " to flush it: " + std::strerror(errno));
  }
  reader_ = std::make_unique<Connection>(config_.path);
  sqlite3_busy_timeout(reader_->handle(), static_cast<int>(config_.busy_timeout.count()));
  // Replaces SQLite's automatic checkpoint (which would run inside the committing transaction).
  sqlite3_wal_hook(writer_->handle(), &Database::on_wal_commit, this);
  checkpointer_ = std::thread([this] {
    set_thread_name("tandem-ckpt");
    run_checkpointer();
  });
}

Database::~Database() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_wake_.notify_all();
  checkpointer_.join();
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

void Database::adopt_earlier_layout() {
  Transaction tx(*writer_);
  const std::int64_t found = scalar(*writer_, "PRAGMA user_version");
  if (found > kLayoutVersion) {
    throw SqliteError(SQLITE_ERROR, config_.path + ": written by a newer build (layout version " +
                                        std::to_string(found) + "; this build reads up to " +
                                        std::to_string(kLayoutVersion) + ")");
  }
  const bool empty = scalar(*writer_, "SELECT count(*) FROM sqlite_master") == 0;
  writer_->exec(kMigrationsTable);
  if (found == kSingleInboxLayout) {
    writer_->exec("INSERT OR IGNORE INTO store_migrations (component, version) VALUES ('inbox', 1)");
  }
  // A file of an unknown earlier layout keeps its mark, for the component that owns its tables
  // to refuse it with the version it found.
  if (empty || found == kSingleInboxLayout || found == kLayoutVersion) {
    writer_->exec("PRAGMA user_version = " + std::to_string(kLayoutVersion));
  }
  tx.commit();
  note_commit();
}

int Database::version(std::string_view component) {
  std::lock_guard lock(writer_mutex_);
  Statement s(*writer_, "SELECT version FROM store_migrations WHERE component = ?1");
  s.bind(1, component);
  return s.step() ? static_cast<int>(s.column_int(0)) : 0;
}

void Database::migrate(std::string_view component, std::span<const Migration> steps,
                       const std::function<void(Connection&, int found)>& before) {
  std::lock_guard lock(writer_mutex_);
  Transaction tx(*writer_);
  Statement get(*writer_, "SELECT version FROM store_migrations WHERE component = ?1");
  get.bind(1, component);
  const int found = get.step() ? static_cast<int>(get.column_int(0)) : 0;
  get.reset();
  if (before) before(*writer_, found);
  const int known = steps.empty() ? 0 : steps.back().version;
  if (found > known) {
    throw SqliteError(SQLITE_ERROR, config_.path + ": " + std::string(component) + " was migrated to version " +
                                        std::to_string(found) + " by a newer build; this build knows up to " +
                                        std::to_string(known));
  }
  int at = found;
  for (const Migration& step : steps) {
    assert(step.version == (&step == steps.data() ? 1 : (&step - 1)->version + 1) && "migrations numbered 1, 2, ...");
    if (step.version <= found) continue;
    writer_->exec(step.sql);
    at = step.version;
  }
  if (at != found) {
    Statement set(*writer_,
                  "INSERT INTO store_migrations (component, version) VALUES (?1, ?2) "
                  "ON CONFLICT (component) DO UPDATE SET version = excluded.version");
    set.bind(1, component).bind(2, std::int64_t{at});
    set.step();
    log_.info("migrated", {{"schema", component}, {"from", found}, {"to", at}});
  }
  tx.commit();
  note_commit();
}

std::uint64_t Database::note_commit() { return committed_.fetch_add(1, std::memory_order_acq_rel) + 1; }

Result<void, StorageError> Database::sync(std::uint64_t sequence) {
  if (wal_fd_ < 0) return {};  // kNormal: durable against a crash of the process only
  std::lock_guard lock(sync_mutex_);
  if (synced_ >= sequence) return {};  // a flush that started later covered it
  // Every transaction counted here has written its frames: this flush covers them all.
  const std::uint64_t target = committed_.load(std::memory_order_acquire);
  if (::fdatasync(wal_fd_) != 0) {
    return StorageError{"cannot flush " + config_.path + "-wal: " + std::strerror(errno)};
  }
  synced_ = target;
  return {};
}

Result<bool, StorageError> Database::run(const std::function<bool(UnitOfWork&)>& work) {
  std::uint64_t sequence = 0;
  try {
    std::lock_guard lock(writer_mutex_);
    Transaction tx(*writer_);
    SqliteUnitOfWork unit(*writer_);
    if (!work(unit)) return false;  // the guard rolls back
    tx.commit();
    sequence = note_commit();
  } catch (const SqliteError& error) {
    return StorageError{error.what()};
  }
  if (auto synced = sync(sequence); !synced) return synced.error();
  return true;
}

bool Database::writable() {
  std::lock_guard lock(writer_mutex_);
  try {
    // BEGIN IMMEDIATE takes the write lock: proves the file is writable and not locked by another
    // process, without writing anything.
    writer_->exec("BEGIN IMMEDIATE");
    writer_->exec("ROLLBACK");
    return true;
  } catch (const SqliteError&) {
    return false;
  }
}

int Database::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* database = static_cast<Database*>(self);
  if (pages >= kCheckpointPages) {
    {
      std::lock_guard lock(database->checkpoint_mutex_);
      database->checkpoint_due_ = true;
    }
    database->checkpoint_wake_.notify_one();
  }
  return SQLITE_OK;
}

void Database::checkpoint_pass(Connection& db, int& wal_pages) {
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &copied);
  // SQLITE_BUSY: another process's checkpointer (a `tandem inbox` command, say) is copying this
  // WAL right now; it does the same work, so that is no failure.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    checkpoint_failures_.inc();
    log_.warn("WAL checkpoint failed; the WAL grows until a later pass succeeds",
              {{"error", sqlite3_errstr(rc)}, {"wal_pages", wal_pages}});
  }
}

void Database::run_checkpointer() {
  std::unique_ptr<Connection> db;
  try {
    db = std::make_unique<Connection>(config_.path);
    sqlite3_busy_timeout(db->handle(), static_cast<int>(config_.busy_timeout.count()));
    // A connection learns the journal mode when it first reads the file; until then a
    // checkpoint is a no-op. The checkpoint's fsyncs follow this connection's setting.
    db->exec("PRAGMA journal_mode = WAL");
    db->exec(config_.synchronous == StoreConfig::Synchronous::kFull ? "PRAGMA synchronous = FULL"
                                                                      : "PRAGMA synchronous = NORMAL");
  } catch (const SqliteError& error) {
    // The writer opened the same file, so this is rare (descriptors exhausted, say); without a
    // checkpointer the WAL only grows, which /metrics and the log must show.
    checkpointer_down_.set(1);
    log_.error("the WAL checkpointer cannot start; the WAL will only grow until a restart",
               {{"error", error.what()}});
    return;
  }
  int held_at = 0;
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || checkpoint_stop_; });
    if (checkpoint_stop_) break;
    checkpoint_due_ = false;
    lock.unlock();
    int wal_pages = 0;
    checkpoint_pass(*db, wal_pages);
    // held_at: the WAL's size at the last held pass; until a commit restarts the WAL, another
    // held pass would find nothing to copy.
    if (wal_pages >= kRestartPages && wal_pages != held_at) {
      // Under a steady stream the writer appends while a PASSIVE checkpoint copies, so the WAL
      // is never fully copied and never starts over: it grew by hundreds of MB in seconds, every
      // commit wrote fresh blocks (ext4 allocation, and a journal commit in every fdatasync for
      // the new size). So: more passes without the writer until one finds little new (each
      // copies only what the writer added during the last), then one while holding the writer's
      // mutex, which copies the rest; the next commit starts the WAL over, overwriting blocks
      // that already exist. The held pass is short because the residual is (a copy of a few
      // hundred pages and an fsync).
      for (int pass = 0; pass < kCatchUpPasses; ++pass) {
        const int before = wal_pages;
        checkpoint_pass(*db, wal_pages);
        if (wal_pages - before <= kHeldResidualPages) break;
      }
      std::lock_guard writer(writer_mutex_);
      checkpoint_pass(*db, wal_pages);
      held_at = wal_pages;
    }
    lock.lock();
  }
}

}  // namespace tandem::store
