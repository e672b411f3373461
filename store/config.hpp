#pragma once
// Configuration of the SQLite store, and the reader of its `store:` section (store/config.cpp).

#include <chrono>
#include <string>

#include "common/config.hpp"

namespace tandem::store {

struct StoreConfig {
  // The SQLite file (next to the configuration file by default).
  std::string path = "tandem.db";
  // Durability of a commit. kFull (default): an append is acknowledged only after the WAL holding
  // it has been flushed (fdatasync), so an event that got its 2xx survives power loss — an
  // acknowledged-then-lost event is a lead nobody follows up. The flush is Tandem's own, not
  // SQLite's synchronous=FULL: the connection runs NORMAL and Database::sync() flushes the WAL
  // once for every transaction committed so far, so the next group commits while the disk
  // flushes the last (pipelined group commit: one flush per group at most, usually fewer).
  // kNormal never flushes at commit (only at checkpoints): still safe against a process crash
  // (kill -9), but the last acknowledged commits can vanish on power loss or an OS crash.
  enum class Synchronous { kFull, kNormal };
  Synchronous synchronous = Synchronous::kFull;
  // How long a writer waits for another connection's lock before failing.
  std::chrono::milliseconds busy_timeout{5'000};
};

// Reads the `store:` section (examples/tandem.yaml documents every key); absent keys keep their
// defaults. Problems land in the section's document.
StoreConfig read_store_config(config::ConfigSection section);

}  // namespace tandem::store
