#pragma once
// The outbox (hubspot/outbox.hpp) as tables of the store's SQLite database (component "outbox"),
// so that the pipeline records intents in the same unit of work as it acknowledges the inbox event
// that caused them.
//

#include <memory>
#include <string>
#include <vector>

#include "hubspot/outbox.hpp"
#include "store/database.hpp"

namespace tandem::store {

class SqliteOutbox final : public hubspot::Outbox {
 public:
  // Migrates the outbox's tables (a start-up error, SqliteError, on failure). db must outlive it.
  explicit SqliteOutbox(Database& db);
  ~SqliteOutbox() override;

  Result<hubspot::RecordOutcome, hubspot::OutboxError> record(UnitOfWork& unit,
                                                              std::span<const hubspot::Intent> intents,
                                                              std::int64_t now) override;
  Result<hubspot::RecordOutcome, hubspot::OutboxError> record(std::span<const hubspot::Intent> intents,
                                                              std::int64_t now) override;
  Result<std::vector<std::int64_t>, hubspot::OutboxError> portals() override;
  Result<std::vector<hubspot::OutboxItem>, hubspot::OutboxError> take(std::int64_t portal, hubspot::Lane lane,
                                                                      std::size_t max, std::int64_t now) override;
  Result<void, hubspot::OutboxError> complete(std::span<const hubspot::Completion> completions,
                                              std::int64_t now) override;
  Result<std::optional<std::int64_t>, hubspot::OutboxError> next_due(std::int64_t portal) override;
  Result<std::size_t, hubspot::OutboxError> release_in_flight() override;
  Result<std::map<std::string, std::vector<hubspot::PropertyWrite>>, hubspot::OutboxError> pending_values(
      std::int64_t portal, std::span<const std::string> ids) override;
  Result<hubspot::OutboxStats, hubspot::OutboxError> stats(std::int64_t now) override;
  Result<std::vector<hubspot::ListedItem>, hubspot::OutboxError> list(const hubspot::OutboxFilter& filter) override;
  Result<std::size_t, hubspot::OutboxError> retry(std::optional<std::int64_t> id,
                                                  std::optional<std::int64_t> portal) override;
  Result<std::size_t, hubspot::OutboxError> drop(std::optional<std::int64_t> id,
                                                 std::optional<std::int64_t> portal) override;
  Result<std::size_t, hubspot::OutboxError> purge(std::chrono::milliseconds retention, std::int64_t now) override;

 private:
  struct Statements;
  // f(writer) in a write transaction of its own, durable before this returns.
  template <class T, class F>
  Result<T, hubspot::OutboxError> write(F&& f);
  hubspot::RecordOutcome record_on(Connection& writer, std::span<const hubspot::Intent> intents, std::int64_t now);
  bool record_key(const std::string& key, std::int64_t now);
  void record_update(const hubspot::ContactUpdate& u, std::int64_t now);
  void record_lifecycle(const hubspot::LifecycleChange& c, std::int64_t now);
  void record_task(const hubspot::TaskCreation& t, std::int64_t now);
  std::int64_t update_item(std::int64_t portal, const std::string& contact, const std::string& key, std::int64_t now);
  void put_value(std::int64_t item, const std::string& name, const std::string& value, const std::string& key);
  void delete_if_empty(std::int64_t item);
  // The sequence counter (outbox_sequence), read at the start of a transaction that hands out
  // numbers and written back at its end.
  void load_sequence();
  void save_sequence();

  Database& db_;
  std::unique_ptr<Statements> st_;  // prepared on the writer; used under its mutex
  std::int64_t seq_ = 0;            // the last sequence number handed out (under the writer's mutex)
  std::int64_t loaded_seq_ = 0;     // seq_ as load_sequence() read it
};

}  // namespace tandem::store
