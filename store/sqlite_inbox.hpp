#pragma once
// The inbox on the store's SQLite database (store/database.hpp: one writer, Tandem's own WAL
// flush, the checkpointer). The webhook committer is the only writer on the hot path and batches
// many requests per transaction; claims, acknowledgements and admin calls share the same writer,
// and acknowledge(UnitOfWork&, ...) joins a unit of work that spans other components' tables.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/database.hpp"
#include "webhooks/inbox.hpp"

namespace tandem::store {

class SqliteInbox : public webhooks::Inbox {
 public:
  // Migrates the inbox's tables in `db` (a start-up error, SqliteError, when the file holds a
  // layout this build cannot read). `max_attempts`: claims of one event before it is
  // dead-lettered. db and clock must outlive the inbox.
  SqliteInbox(Database& db, const Clock& clock, int max_attempts = 5);
  ~SqliteInbox() override;

  Result<webhooks::Appended, webhooks::InboxError> append_committed(
      std::span<const std::vector<webhooks::Event>* const> batches) override;
  Result<void, webhooks::InboxError> sync(webhooks::AppendTicket ticket) override;
  Result<std::vector<webhooks::StoredEvent>, webhooks::InboxError> claim(std::size_t max,
                                                                       std::chrono::milliseconds lease,
                                                                       const std::string& consumer) override;
  Result<void, webhooks::InboxError> acknowledge(std::int64_t id, const std::string& consumer) override;
  Result<void, webhooks::InboxError> acknowledge(UnitOfWork& unit, std::int64_t id,
                                                 const std::string& consumer) override;
  Result<void, webhooks::InboxError> retry_later(std::int64_t id, const std::string& consumer,
                                                 const std::string& reason,
                                                 std::chrono::milliseconds retry_after) override;
  Result<std::size_t, webhooks::InboxError> replay(std::optional<std::int64_t> id,
                                                   webhooks::EventState from) override;
  Result<webhooks::InboxStats, webhooks::InboxError> stats() override;
  Result<std::vector<webhooks::StoredEvent>, webhooks::InboxError> list(const webhooks::ListFilter& filter) override;
  bool writable() override;
  Result<std::size_t, webhooks::InboxError> purge(std::chrono::milliseconds retention) override;

 private:
  struct Statements;
  // A write transaction of its own on the writer, durable before it returns.
  template <class F>
  Result<void, webhooks::InboxError> write(F&& f);
  Result<void, webhooks::InboxError> acknowledge_on(Connection& writer, std::int64_t id, const std::string& consumer);

  Database& db_;
  const Clock& clock_;
  int max_attempts_;
  std::unique_ptr<Statements> st_;     // prepared on the writer; used under its mutex
  std::vector<std::string> keys_;      // dedup keys of the rows being inserted (bound without copying)
  std::vector<std::string> payloads_;  // and their payloads, encoded
};

}  // namespace tandem::store
