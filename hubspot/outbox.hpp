#pragma once
// The outbox: every write Tandem intends to make in HubSpot, recorded durably before anything is
// sent, and drained per account in batches by OutboxWriter (hubspot/outbox_writer.hpp).
// Declared here (the module that drains it); implemented in store/ (SQLite now, PostgreSQL later).
//
// Three kinds of intent, each with a deterministic key chosen by the caller (for instance the
// inbox event and the rule that caused it). Recording a key that is already recorded is a no-op,
// whatever became of the first intent (sent, dead, dropped), for as long as the key is retained
// (purge()). Keys should begin with a part that grows over time (the inbox event's id, say, as in
// "evt:<id>:<rule>"): the SQLite store keeps them in their own order, and keys without such an
// order cost it a page write per intent (bench/outbox/RESULTS.md). Keys are one namespace for
// every account: HubSpot's ids repeat across accounts, so a key names its account unless it is
// derived from something that does (an inbox event id).
//   - ContactUpdate: property values for one contact. Pending updates of the same contact
//     coalesce: the contact is sent once, with the latest recorded value of each property.
//   - LifecycleChange: the contact's lifecycle stage. Forward moves coalesce with the contact's
//     other updates. A backwards move is the documented two-step operation (contract §4.3): clear
//     the stage in one request, then set the earlier value in a later one. Its progress is
//     stored, so a crash between the steps is completed after a restart and no contact is left
//     with an empty stage. A later change of the same contact replaces the target stage.
//   - TaskCreation: one task associated with one contact (association type 204). The writer
//     leaves the key in the task body as a marker (task_marker()) so that a create whose outcome
//     is unknown can be recognised in HubSpot before it is sent again.
//
// Lanes: the drain takes items of one lane of one account at a time, so that one request carries
// one object type and one operation.

#include <chrono>
#include <map>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "common/unit_of_work.hpp"

namespace tandem::hubspot {

struct OutboxError {
  std::string message;
  friend std::ostream& operator<<(std::ostream& os, const OutboxError& e) { return os << e.message; }
};

struct PropertyWrite {
  std::string name;
  std::string value;  // "" clears the property (contract §4)
  bool operator==(const PropertyWrite&) const = default;
};

// The portal (HubSpot account, hub id) and contact ids are HubSpot's, as on the wire.
struct ContactUpdate {
  std::string key;
  std::int64_t portal_id = 0;
  std::string contact_id;
  // Must not contain lifecyclestage (record a LifecycleChange); a programming error otherwise.
  std::vector<PropertyWrite> properties;
};

struct LifecycleChange {
  std::string key;
  std::int64_t portal_id = 0;
  std::string contact_id;
  std::string stage;  // internal value, never empty
  // The caller knows the stage order (from the rules or the lifecyclestage property's options):
  // true when `stage` comes before the contact's current stage.
  bool backwards = false;
};

struct TaskCreation {
  std::string key;
  std::int64_t portal_id = 0;
  std::string contact_id;
  // hs_timestamp (required by HubSpot), hs_task_subject, hs_task_body, hubspot_owner_id,
  // hs_task_type, hs_task_priority, hs_task_status... The writer appends the marker to
  // hs_task_body when it sends.
  std::vector<PropertyWrite> properties;
};

using Intent = std::variant<ContactUpdate, LifecycleChange, TaskCreation>;

struct RecordOutcome {
  std::size_t recorded = 0;
  std::size_t already_recorded = 0;  // keys seen before: nothing changed
};

enum class Lane {
  kContactUpdates,  // POST …/contacts/batch/update
  kLifecycleClear,  // POST …/contacts/batch/update with lifecyclestage ""
  kLifecycleSet,    // POST …/contacts/batch/update with the earlier stage, after the clear
  kTaskCreates,     // POST …/tasks/batch/create with associations
};
inline constexpr Lane kLanes[] = {Lane::kContactUpdates, Lane::kLifecycleClear, Lane::kLifecycleSet, Lane::kTaskCreates};
std::string_view to_string(Lane lane);
std::optional<Lane> parse_lane(std::string_view text);

// One item taken for sending.
struct OutboxItem {
  std::int64_t id = 0;  // the handle for complete(); stable for the item's life
  Lane lane = Lane::kContactUpdates;
  std::int64_t portal_id = 0;
  std::string contact_id;
  // What to send. kContactUpdates: the latest value of every property pending for the contact.
  // kLifecycleClear: lifecyclestage "". kLifecycleSet: lifecyclestage and the target stage.
  // kTaskCreates: the task's properties as recorded (without the marker).
  std::vector<PropertyWrite> properties;
  std::string key;   // kTaskCreates: the intent's key; otherwise the key of the latest intent
  int attempts = 0;  // sends before this one
  // kTaskCreates: an earlier send may have created the task (the answer was lost, or the process
  // stopped while it was in flight). The writer must find out before sending it again.
  // Both fields give the item's state BEFORE this take(): take() marks an item that was not
  // unknown as unknown with sent_at = now (durably) and returns outcome_unknown = false; an item
  // that was already unknown is returned with outcome_unknown = true and its earlier sent_at
  // unchanged (the writer looks it up instead of sending it, once sent_at + a settle delay has
  // passed; complete(kRetry) then clears the mark so the next take() sends it).
  bool outcome_unknown = false;
  // kTaskCreates: when the last send started (epoch ms), for the settle delay before a lookup.
  std::int64_t sent_at = 0;
};

// What became of one item, given to complete().
struct Completion {
  enum class Kind {
    // HubSpot applied it. Contact updates: the property values that were taken are done (values
    // recorded since then stay pending). kLifecycleClear: the item moves on to kLifecycleSet.
    // kTaskCreates: hubspot_id is the task's id.
    kWritten,
    // Not applied: send again at retry_at (attempts + 1). `error` says why.
    kRetry,
    // kTaskCreates only: it may have been applied; look it up (outcome_unknown) at retry_at.
    kUnknown,
    // Never to be sent: HubSpot refused it (4xx other than 401/409/423/429). `error` holds
    // HubSpot's message and correlationId; `status` the HTTP status (0 when none).
    kDead,
  };
  std::int64_t id = 0;
  Kind kind = Kind::kWritten;
  std::string hubspot_id;
  std::int64_t retry_at = 0;  // epoch ms
  std::string error;
  int status = 0;
};

enum class ItemState { kPending, kInFlight, kDead, kDone };
std::string_view to_string(ItemState state);
std::optional<ItemState> parse_item_state(std::string_view text);

struct OutboxStats {
  struct PerLane {
    std::int64_t portal_id = 0;
    Lane lane = Lane::kContactUpdates;
    std::int64_t pending = 0;  // including in flight
    std::int64_t dead = 0;
    std::int64_t done = 0;     // task creations kept until purge (with their HubSpot ids)
    // From the oldest pending item's first record to `now`; 0 when none.
    std::chrono::milliseconds oldest_pending_age{0};
  };
  std::vector<PerLane> lanes;  // one row per (portal, lane) that has any item
};

// An item as the admin commands show it.
struct ListedItem {
  std::int64_t id = 0;
  std::int64_t portal_id = 0;
  Lane lane = Lane::kContactUpdates;
  ItemState state = ItemState::kPending;
  std::string contact_id;
  std::string key;
  std::vector<PropertyWrite> properties;
  int attempts = 0;
  std::int64_t recorded_at = 0;  // epoch ms
  std::int64_t retry_at = 0;
  std::string hubspot_id;
  std::string last_error;
  int last_status = 0;
};

struct OutboxFilter {
  std::optional<std::int64_t> portal_id;
  std::optional<Lane> lane;
  std::optional<ItemState> state;
  std::optional<std::string> contact_id;
  std::int64_t after_id = 0;  // paging: items with id > after_id
  std::size_t limit = 100;
};

// Every call returns a Result and never throws. Thread-safe; calls block on the disk.
class Outbox {
 public:
  virtual ~Outbox() = default;

  // Records intents inside the caller's unit of work (the pipeline acknowledges the inbox event
  // in the same unit): they exist exactly when the unit commits. `now` (epoch ms) is their record
  // time. Intents with a recorded key are skipped and counted as already_recorded.
  virtual Result<RecordOutcome, OutboxError> record(UnitOfWork& unit, std::span<const Intent> intents,
                                                    std::int64_t now) = 0;
  // The same in a unit of its own; durable when it returns.
  virtual Result<RecordOutcome, OutboxError> record(std::span<const Intent> intents, std::int64_t now) = 0;

  // Accounts with pending items, in no particular order.
  virtual Result<std::vector<std::int64_t>, OutboxError> portals() = 0;
  // Takes up to `max` items of `lane` for `portal` that are pending, due (retry_at <= now) and not
  // in flight, oldest first, and marks them in flight. At most one item per contact is in flight
  // per lane. kTaskCreates items are marked outcome_unknown (sent_at = now) durably before this
  // returns, so a crash while they are in flight leaves them to be looked up, never re-sent
  // blindly. Items stay in flight until complete(); release_in_flight() gives back what a stopped
  // process left.
  virtual Result<std::vector<OutboxItem>, OutboxError> take(std::int64_t portal, Lane lane, std::size_t max,
                                                            std::int64_t now) = 0;
  // Records what became of items taken by take(), in one transaction, durably.
  virtual Result<void, OutboxError> complete(std::span<const Completion> completions, std::int64_t now) = 0;
  // The earliest retry_at among pending items of `portal` not in flight (nullopt: none).
  virtual Result<std::optional<std::int64_t>, OutboxError> next_due(std::int64_t portal) = 0;
  // At start-up: every item in flight becomes pending again (task creations keep outcome_unknown).
  virtual Result<std::size_t, OutboxError> release_in_flight() = 0;
  // What is recorded and not yet known to be applied for each contact of `ids` (in flight
  // included): the latest pending value of each property, and lifecyclestage with the target of
  // an open lifecycle change. The pipeline lays these over what it reads from HubSpot, so that a
  // decision is not taken twice while its writes are on their way. Contacts with nothing pending
  // are absent. Thread-safe; never waits for a writer.
  virtual Result<std::map<std::string, std::vector<PropertyWrite>>, OutboxError> pending_values(
      std::int64_t portal, std::span<const std::string> ids) = 0;

  // Admin (tandem outbox).
  virtual Result<OutboxStats, OutboxError> stats(std::int64_t now) = 0;
  virtual Result<std::vector<ListedItem>, OutboxError> list(const OutboxFilter& filter) = 0;
  // Dead items (one, or all of a portal / all) back to pending with attempts reset. Returns how many.
  virtual Result<std::size_t, OutboxError> retry(std::optional<std::int64_t> id, std::optional<std::int64_t> portal) = 0;
  // Removes pending or dead items for good (their keys stay recorded). Returns how many.
  virtual Result<std::size_t, OutboxError> drop(std::optional<std::int64_t> id, std::optional<std::int64_t> portal) = 0;
  // Forgets done items and keys recorded before now - retention. Returns how many rows went.
  virtual Result<std::size_t, OutboxError> purge(std::chrono::milliseconds retention, std::int64_t now) = 0;
};

// The marker Tandem leaves at the end of every task body it creates, on a line of its own:
// "[tandem:" + the first 32 hex digits of SHA-256(key) + "]". Deterministic in the key; only
// ASCII letters, digits, ':' and brackets, so rich-text editing in HubSpot leaves it intact.
std::string task_marker(std::string_view key);

}  // namespace tandem::hubspot
