#pragma once
// A unit of work: ONE storage transaction that spans several storage interfaces (the inbox, the
// outbox, timers, audit). The pipeline acknowledges an inbox event and records the writes it
// caused in one unit, so that a crash between the two can neither lose nor repeat work.
//
// An interface call that takes a `UnitOfWork&` does its writes inside that unit: they become
// visible and durable together with the unit's commit, or not at all. Such calls are only valid
// inside the `work` function given to UnitsOfWork::run(), on its thread, and only with a unit of
// the same backend as the interface (a SQLite inbox takes a SQLite unit).
//
// Declared here rather than in one module because every module with a storage interface needs
// it and none of them may depend on another's; the storage backend (store/) implements it.

#include <functional>
#include <ostream>
#include <string>

#include "common/result.hpp"

namespace tandem {

class UnitOfWork {
 public:
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;

 protected:
  UnitOfWork() = default;
  virtual ~UnitOfWork() = default;  // owned by the backend for the duration of run() only
};

// Why a unit of work could not be started or committed (disk full, I/O error, lock timeout...).
struct StorageError {
  std::string message;
  friend std::ostream& operator<<(std::ostream& os, const StorageError& e) { return os << e.message; }
};

class UnitsOfWork {
 public:
  virtual ~UnitsOfWork() = default;
  // Runs `work` in one write transaction. `work` returns true to commit, false to roll back
  // (it keeps its own reason, e.g. a lease it no longer holds). Returns true once the commit is
  // as durable as the backend's configuration promises (with store.synchronous: full, flushed
  // to disk), false when `work` rolled back. On an error, or false, nothing `work` wrote is
  // stored. An error from the final flush means durability is unknown: the unit has committed
  // and may survive a power loss or not, so work it recorded must be safe to find done later.
  // Units are serialised: one runs at a time per database. Thread-safe; blocks on the disk.
  virtual Result<bool, StorageError> run(const std::function<bool(UnitOfWork&)>& work) = 0;
};

}  // namespace tandem
