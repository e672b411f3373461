#pragma once
// The inbox: where verified webhook events become durable, and where the pipeline takes them from.
// Declared here (the module that needs it); implemented in store/ (SQLite now, PostgreSQL later).

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unit_of_work.hpp"
#include "webhooks/event.hpp"

namespace tandem::webhooks {

// Result of appending one request's events.
struct AppendOutcome {
  std::size_t stored = 0;      // new events
  std::size_t duplicates = 0;  // already in the inbox (same dedup key)
  std::size_t own_echoes = 0;  // of `stored`, events caused by Tandem's own writes
};

// Names one committed append transaction (see Inbox::append_committed).
struct AppendTicket {
  std::uint64_t sequence = 0;
};

// A committed append: one outcome per batch, and the ticket to sync().
struct Appended {
  std::vector<AppendOutcome> outcomes;
  AppendTicket ticket;
};

struct InboxError {
  enum class Kind {
    // The storage layer failed (disk full, I/O error, database locked past the timeout...).
    kStorage,
    // The consumer no longer holds the event's lease (it expired, and the event was claimed
    // again or dead-lettered): the work done for it must be treated as not recorded.
    kLeaseLost,
  };
  Kind kind = Kind::kStorage;
  std::string message;
  friend std::ostream& operator<<(std::ostream& os, const InboxError& e) { return os << e.message; }
};

enum class EventState { kPending, kClaimed, kDone, kDead, kSkipped };
std::string_view to_string(EventState state);
std::optional<EventState> parse_event_state(std::string_view text);

struct StoredEvent {
  std::int64_t id = 0;  // inbox sequence number, increasing in arrival order
  Event event;
  EventState state = EventState::kPending;
  std::int64_t received_at = 0;  // epoch ms
  int attempts = 0;              // times claimed
  std::string last_error;        // reason of the last failure; for kDead, why it is dead
  std::int64_t lease_until = 0;  // epoch ms, while claimed
};

struct InboxStats {
  std::int64_t unprocessed = 0;  // pending + claimed: not yet processed
  std::int64_t claimed = 0;
  std::int64_t done = 0;
  std::int64_t dead = 0;
  std::int64_t skipped = 0;  // own echoes
  std::int64_t unknown_types = 0;
  // Age of the oldest pending or claimed event, from its arrival; 0 when there is none.
  std::chrono::milliseconds oldest_unprocessed_age{0};
};

struct ListFilter {
  std::optional<EventState> state;
  std::int64_t after_id = 0;  // paging: events with id > after_id
  std::size_t limit = 100;
};

// Every call that can fail on storage returns a Result (common/result.hpp) and never throws.
class Inbox {
 public:
  virtual ~Inbox() = default;

  // Stores every batch (one per request) in ONE transaction, deduplicated on
  // (portal, subscriptionId, subscriptionType, objectId, eventId, occurredAt) — eventId alone is
  // not unique — including duplicates inside the same transaction. On success the transaction has
  // committed (it is visible, and it survives a crash of this process) and the ticket names it;
  // it survives power loss once sync(ticket) has returned no error. On error nothing of any batch
  // is stored. Own echoes are stored as kSkipped. Thread-safe.
  //
  // The split lets a caller commit the next group while the disk flushes the previous one
  // (pipelined group commit): the receiver answers HubSpot only after sync().
  virtual Result<Appended, InboxError> append_committed(std::span<const std::vector<Event>* const> batches) = 0;
  // Returns once every transaction up to and including `ticket` is durable; one flush covers all
  // transactions committed before it starts, whoever waits for them. Thread-safe; may block on the
  // disk. An error means durability is unknown: treat those events as not acknowledged (they
  // are committed, so HubSpot's retry is deduplicated).
  virtual Result<void, InboxError> sync(AppendTicket ticket) = 0;
  // append_committed() then sync(): durable when it returns no error.
  Result<std::vector<AppendOutcome>, InboxError> append(std::span<const std::vector<Event>* const> batches) {
    auto appended = append_committed(batches);
    if (!appended) return appended.error();
    if (auto synced = sync(appended->ticket); !synced) return synced.error();
    return std::move(appended->outcomes);
  }

  // Leases up to `max` events, oldest first, to `consumer` for `lease`. An event whose lease
  // expires without acknowledge() goes back to the queue; after max_attempts claims it goes to
  // kDead with the reason. Own echoes (kSkipped) are never claimed. Durable when it returns.
  virtual Result<std::vector<StoredEvent>, InboxError> claim(std::size_t max, std::chrono::milliseconds lease,
                                                             const std::string& consumer) = 0;
  // Marks processed, durably. kLeaseLost when the consumer no longer holds the lease.
  virtual Result<void, InboxError> acknowledge(std::int64_t id, const std::string& consumer) = 0;
  // The same inside a unit of work: the event is done exactly when the unit commits, together
  // with whatever else the unit recorded (the writes the event caused). On kLeaseLost the caller
  // rolls the unit back (its `work` returns false).
  virtual Result<void, InboxError> acknowledge(UnitOfWork& unit, std::int64_t id, const std::string& consumer) = 0;
  // Gives the event back after a failure: claimable again after `retry_after`, or kDead with
  // `reason` once it has been claimed max_attempts times. kLeaseLost when the lease was lost.
  virtual Result<void, InboxError> retry_later(std::int64_t id, const std::string& consumer,
                                               const std::string& reason, std::chrono::milliseconds retry_after) = 0;

  // Admin: dead (or skipped) events back to kPending with attempts reset. Returns how many moved.
  virtual Result<std::size_t, InboxError> replay(std::optional<std::int64_t> id, EventState from = EventState::kDead) = 0;
  virtual Result<InboxStats, InboxError> stats() = 0;
  virtual Result<std::vector<StoredEvent>, InboxError> list(const ListFilter& filter) = 0;
  // True when a write transaction can be started (for /readyz).
  virtual bool writable() = 0;
  // Deletes processed (done/skipped) events received before now - retention (never less than
  // 48 h), which also ends their deduplication. Returns how many were deleted.
  virtual Result<std::size_t, InboxError> purge(std::chrono::milliseconds retention) = 0;
};

}  // namespace tandem::webhooks
