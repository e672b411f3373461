#pragma once
// Contact states, their timers and stage transitions (pipeline/contact_states.hpp) as two tables of
// the store's SQLite database (component "contacts"):
//   contact_states     one row per (portal, contact): the rules' state as JSON, the last decision,
//                      and the timer (next_check_at, indexed where set);
//   stage_transitions  one row per observed or decided move of a contact's lifecycle stage.

#include <functional>

#include "pipeline/contact_states.hpp"
#include "store/database.hpp"

namespace tandem::store {

class SqliteContactStates final : public pipeline::ContactStates {
 public:
  // Migrates the tables (a start-up error, SqliteError, on failure). db must outlive it.
  explicit SqliteContactStates(Database& db);

  Result<std::map<std::string, pipeline::StoredContact>, pipeline::StateError> load(
      std::int64_t portal, std::span<const std::string> ids) override;
  Result<void, pipeline::StateError> save(UnitOfWork& unit, std::int64_t portal, const std::string& contact_id,
                                          const pipeline::StoredContact& state) override;
  Result<std::vector<pipeline::DueContact>, pipeline::StateError> claim_due(std::int64_t now, std::size_t max,
                                                                            std::int64_t lease_ms) override;
  Result<std::optional<std::int64_t>, pipeline::StateError> next_due() override;
  Result<pipeline::TimerStats, pipeline::StateError> timer_stats(std::int64_t now) override;
  Result<void, pipeline::StateError> merge(UnitOfWork& unit, std::int64_t portal, const std::string& from,
                                           const std::string& into) override;
  Result<void, pipeline::StateError> record_transition(UnitOfWork& unit,
                                                       const pipeline::StageTransition& transition) override;
  Result<std::vector<pipeline::StageTransition>, pipeline::StateError> transitions(std::int64_t portal,
                                                                                    const std::string& contact_id,
                                                                                    std::size_t limit) override;
  Result<std::size_t, pipeline::StateError> purge_transitions(std::int64_t before) override;
  Result<std::vector<pipeline::BackfillProgress>, pipeline::StateError> backfills() override;
  Result<void, pipeline::StateError> save_backfill(UnitOfWork& unit, const pipeline::BackfillProgress& progress) override;
  Result<std::size_t, pipeline::StateError> forget_portal(std::int64_t portal) override;

  // Every contact of `portal` (every portal when 0) with its state, for the scoreboards; in id
  // order, read in one snapshot.
  Result<void, pipeline::StateError> for_each(
      std::int64_t portal, const std::function<void(std::int64_t portal, const std::string& id, const pipeline::StoredContact&)>& fn);

 private:
  Database& db_;
};

}  // namespace tandem::store
