#pragma once
// The write path as the fault, kill and bench runs drive it: a workload of intended writes with
// the state HubSpot must end in, a writer over a SQLite outbox on an io thread of its own, and
// the check of the sandbox's state against the workload.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.hpp"
#include "connector/write_path.hpp"
#include "hubspot/outbox.hpp"
#include "store/database.hpp"
#include "store/sqlite_outbox.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem::testing {

struct Workload {
  std::vector<hubspot::Intent> intents;  // in the order they are recorded
  // What every contact must hold at the end: contact id → property → latest intended value.
  std::map<std::string, std::map<std::string, std::string>> latest;
  std::map<std::string, std::string> task_contact;  // task intent key → contact id
};

// `updates_per_contact` updates and `tasks_per_contact` tasks for each contact, interleaved
// round by round. Deterministic: the same arguments give the same intents and keys.
Workload make_workload(std::int64_t portal, const std::vector<std::string>& contacts, int tasks_per_contact,
                       int updates_per_contact);

// Compares the sandbox's snapshot with the workload: every task exactly once (by its marker),
// associated with its contact (type 204), and every contact's latest values. Returns one line per
// problem (at most `max_lines`, then a count); empty when the state is as intended.
std::vector<std::string> check_against(const nlohmann::json& snapshot, std::int64_t portal, const Workload& workload,
                                       std::size_t max_lines = 20);

// The writer's settings for runs against a sandbox whose limits are raised far above HubSpot's:
// short backoff, a settle delay above the 2 s latency spikes of the fault runs.
connector::WritePathOptions fast_write_options(const std::string& base_url, const std::string& extra_ca_pem = {});

class WriterHarness {
 public:
  WriterHarness(const std::string& db_path, hubspot::TokenSource& tokens, connector::WritePathOptions options,
                store::StoreConfig::Synchronous synchronous = store::StoreConfig::Synchronous::kNormal);
  ~WriterHarness();
  WriterHarness(const WriterHarness&) = delete;
  WriterHarness& operator=(const WriterHarness&) = delete;

  hubspot::Outbox& outbox() { return *outbox_; }
  connector::WritePath& path() { return *path_; }
  MetricsRegistry& metrics() { return metrics_; }
  // Starts the writer on the io thread.
  void start();
  // Records intents in units of `per_call` and wakes the writer.
  void record(const std::vector<hubspot::Intent>& intents, std::size_t per_call = 500);
  // Items pending (in flight included) and dead, over every account and lane.
  std::int64_t pending();
  std::int64_t dead();
  // Stops the writer and waits for it.
  void stop();

 private:
  MetricsRegistry metrics_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::SqliteOutbox> outbox_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<connector::WritePath> path_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace tandem::testing
