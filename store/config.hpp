#pragma once

#include <chrono>
#include <string>

namespace tandem::store {

struct StoreConfig {
  // The SQLite file (next to the configuration file by default).
  std::string path = "tandem.db";
  // Durability of a commit. kFull (default): with WAL, SQLite fsyncs the WAL on every commit, so a
  // commit that returned survives power loss — the receiver answers HubSpot 2xx only after that,
  // and an acknowledged-then-lost event is a lead nobody follows up. kNormal fsyncs only at
  // checkpoints: still safe against a process crash (kill -9), but the last commits can vanish on
  // power loss or an OS crash. Group commit makes the cost of kFull one fsync per group, not per
  // request, which is why we can afford it.
  enum class Synchronous { kFull, kNormal };
  Synchronous synchronous = Synchronous::kFull;
  // Claims of one event before it is dead-lettered.
  int max_attempts = 5;
  // How long a writer waits for another connection's lock before failing.
  std::chrono::milliseconds busy_timeout{5'000};
};

}  // namespace tandem::store
