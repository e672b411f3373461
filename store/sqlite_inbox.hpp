#pragma once
// The inbox on SQLite in WAL mode (see StoreConfig::synchronous for the durability choice).
// One writing connection guarded by a mutex: the webhook committer is the only writer on the hot
// path and batches many requests per transaction, so a second one would buy little. The WAL is
// flushed by sync() outside that mutex (so the next group commits meanwhile), and the
// checkpointer takes the mutex only for the short pass that lets the WAL restart.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "store/config.hpp"
#include "webhooks/inbox.hpp"

struct sqlite3;

namespace tandem::store {

class Database;

class SqliteInbox final : public webhooks::Inbox {
 public:
  // Opens or creates the database and its schema; throws SqliteError when that fails (a start-up
  // error). The clock must outlive the inbox. `max_attempts`: claims of one event before it is
  // dead-lettered (webhooks::WebhooksConfig::max_attempts).
  SqliteInbox(const StoreConfig& config, const Clock& clock, int max_attempts);
  ~SqliteInbox() override;

  std::optional<webhooks::InboxError> append_committed(std::span<const std::vector<webhooks::Event>* const> batches,
                                                       std::vector<webhooks::AppendOutcome>& outcomes,
                                                       webhooks::AppendTicket& ticket) override;
  std::optional<webhooks::InboxError> sync(webhooks::AppendTicket ticket) override;
  std::vector<webhooks::StoredEvent> claim(std::size_t max, std::chrono::milliseconds lease,
                                           const std::string& consumer) override;
  bool acknowledge(std::int64_t id, const std::string& consumer) override;
  bool fail(std::int64_t id, const std::string& consumer, const std::string& reason,
            std::chrono::milliseconds retry_after) override;
  std::size_t replay(std::optional<std::int64_t> id, webhooks::EventState from) override;
  webhooks::InboxStats stats() override;
  std::vector<webhooks::StoredEvent> list(const webhooks::ListFilter& filter) override;
  bool writable() override;
  std::size_t purge(std::chrono::milliseconds retention) override;

 private:
  struct Statements;
  static int on_wal_commit(void* self, ::sqlite3* db, const char* name, int pages);
  // Counts a committed write transaction; returns its sequence number.
  std::uint64_t note_commit();
  // For the admin and pipeline writes (claim, acknowledge...): durable before they return.
  void sync_or_throw();
  void run_checkpointer();

  StoreConfig config_;
  int max_attempts_;
  const Clock& clock_;
  std::mutex mutex_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Statements> st_;
  std::vector<std::string> keys_;      // dedup keys of the rows being inserted (bound without copying)
  std::vector<std::string> payloads_;  // and their payloads, encoded
  // Durability (kFull): write transactions committed so far, and how many of them a flush of the
  // WAL (wal_fd_, -1 with kNormal) is known to cover.
  std::atomic<std::uint64_t> committed_{0};
  std::mutex sync_mutex_;
  std::uint64_t synced_ = 0;
  int wal_fd_ = -1;
  // stats() and list() read through their own connection: in WAL mode readers never wait for
  // the writer, so counting a large inbox for /metrics does not delay a group commit.
  std::mutex reader_mutex_;
  std::unique_ptr<Database> reader_;

  // WAL checkpoints run on their own connection and thread, so that copying the WAL back into the
  // database (and its fsync) never sits inside a group commit. PASSIVE: never blocks the writer.
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace tandem::store
