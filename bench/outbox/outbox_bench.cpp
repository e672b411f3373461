// Outbox record-path benchmark: records COUNT mixed intents (70% contact updates of 2 properties
// over 1,000 contacts, 20% task creations, 10% lifecycle changes of which a third backwards) in
// batches of BATCH, one record() call (one transaction, durable when it returns) per batch, into
// a fresh database file. Prints one JSON line: intents/s, calls/s, peak RSS (of the process,
// which includes the intents generated up front).
//   outbox_bench DB_FILE full|normal [COUNT] [BATCH] [KEYS]
// KEYS: "ordered" (default; "evt:<inbox id>:rule-<n>", 18 bytes, stored as they are), "long"
// (the same with a 40-byte tail: stored as a prefix and a hash) or "random" (hex of a random
// number first: no order, the worst case for the keys' b-tree).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "common/metrics.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"

using namespace tandem;
using namespace tandem::hubspot;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: outbox_bench DB_FILE full|normal [COUNT] [BATCH] [ordered|long|random]\n";
    return 2;
  }
  const std::string path = argv[1];
  const std::string mode = argv[2];
  const std::size_t count = argc > 3 ? std::stoul(argv[3]) : 200'000;
  const std::size_t batch = argc > 4 ? std::stoul(argv[4]) : 500;
  const std::string keys = argc > 5 ? argv[5] : "ordered";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  store::StoreConfig config;
  config.path = path;
  config.synchronous =
      mode == "normal" ? store::StoreConfig::Synchronous::kNormal : store::StoreConfig::Synchronous::kFull;
  MetricsRegistry metrics;
  store::Database db(config, metrics);
  store::SqliteOutbox outbox(db);

  // The intents are generated before the clock starts: the benchmark times the store only.
  static const char* kStages[] = {"subscriber",         "lead",        "marketingqualifiedlead",
                                  "salesqualifiedlead", "opportunity", "customer"};
  std::mt19937_64 rng(42);
  std::vector<Intent> intents;
  intents.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t portal = 62515;
    const std::string contact = std::to_string(1000 + rng() % 1000);
    std::string key = "evt:" + std::to_string(1'000'000 + i) + ":rule-" + std::to_string(i % 7);
    if (keys == "long") key += ":lead-scoring/assign-owner-and-create-task";
    if (keys == "random") {
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
      key = hex + (":" + key);
    }
    const auto dice = rng() % 100;
    if (dice < 70) {
      intents.push_back(ContactUpdate{
          key, portal, contact, {{"hs_lead_status", "IN_PROGRESS"}, {"score_band", "b" + std::to_string(rng() % 5)}}});
    } else if (dice < 90) {
      intents.push_back(TaskCreation{key,
                                     portal,
                                     contact,
                                     {{"hs_timestamp", "2026-12-02T10:00:00Z"},
                                      {"hs_task_subject", "Call the new lead " + contact},
                                      {"hs_task_body", "Score went up; call within 24 h."},
                                      {"hubspot_owner_id", "51234"},
                                      {"hs_task_type", "CALL"}}});
    } else {
      intents.push_back(LifecycleChange{key, portal, contact, kStages[rng() % 6], rng() % 3 == 0});
    }
  }

  std::size_t recorded = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < count; at += batch) {
    const std::size_t n = std::min(batch, count - at);
    auto r = outbox.record(std::span<const Intent>(intents.data() + at, n),
                           1'700'000'000'000 + static_cast<std::int64_t>(at));
    if (!r) {
      std::cerr << "record failed: " << r.error().message << "\n";
      return 1;
    }
    recorded += r->recorded;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "{\"synchronous\":\"%s\",\"keys\":\"%s\",\"intents\":%zu,\"recorded\":%zu,\"batch\":%zu,\"seconds\":%.3f,"
      "\"intents_per_s\":%.0f,\"calls_per_s\":%.1f,\"peak_rss_kib\":%ld,\"file_bytes\":%ju}\n",
      mode.c_str(), keys.c_str(), count, recorded, batch, seconds, count / seconds,
      (count / static_cast<double>(batch)) / seconds, usage.ru_maxrss,
      static_cast<std::uintmax_t>(std::filesystem::file_size(path)));
  return recorded == count ? 0 : 1;
}
