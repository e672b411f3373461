#pragma once
// The webhook receiver: POST <config.path> verifies the signature on the raw bytes, parses the
// events, hands them to a committer thread and answers 2xx only after the inbox transaction that
// holds them is durable. Concurrent requests share one transaction (group commit), and commits
// are pipelined: a syncer thread waits for the flush of committed groups (one flush covers all
// of them) while the committer writes the next group. It runs no server of its own: the
// connector's service routes config.path to handler() and runs the receiver's probes
// (store_writable(), refresh_inbox_gauges()) and purge job on its worker threads.
//
// Statuses: 200 stored (body {"stored":n,"duplicates":d}); 400 malformed body (reason in the
// body); 401 missing/invalid signature; 405 another method; 404 another path (only for a caller that
// routes more than config.path here); 413 body too large; 503 + Retry-After
// when the committer queue is full, the store failed, or the receiver is stopping. Nothing is
// stored unless the answer is 200.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "webhooks/config.hpp"
#include "webhooks/inbox.hpp"
#include "webhooks/signature.hpp"

namespace tandem::webhooks {

class WebhookReceiver {
 public:
  // Starts the committer thread. config, inbox, clock and metrics must outlive the receiver.
  WebhookReceiver(const WebhooksConfig& config, Inbox& inbox, const Clock& clock, MetricsRegistry& metrics);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // The handler of config.path (other paths get 404). Never blocks: verification and parsing are
  // CPU-only and bounded by the body limit; storage runs on the committer thread.
  [[nodiscard]] http::Handler handler();
  void handle(http::Request request, http::Responder respond);

  // Server options derived from the config (limits, timeouts); address and port from the caller.
  [[nodiscard]] static http::ServerOptions server_options(const WebhooksConfig& config, std::string address,
                                                          std::uint16_t port);

  [[nodiscard]] const std::string& path() const { return config_.path; }

  // For the service's worker thread, never the io thread: each may block on the store, and none
  // delays a commit. Thread-safe.
  //
  // Whether the inbox can start a write transaction (a readiness check).
  [[nodiscard]] bool store_writable();
  // Reads the inbox gauges (depth, oldest unprocessed age, dead events) from the store.
  void refresh_inbox_gauges();
  // Deletes processed events older than config.dedup_retention (a job every
  // config.purge_interval); a failure is logged, and the next run retries.
  void purge_expired();

  // Commits and answers everything already queued, then stops the committer; later requests get
  // 503. Call after the server stopped accepting. Idempotent.
  void stop();

 private:
  struct Pending {
    std::vector<Event> events;
    http::Responder respond;
    Clock::SteadyTime queued_at;
  };
  // A group whose transaction has committed, waiting for the flush that makes it durable.
  struct Committed {
    Committed() = default;
    Committed(Committed&&) noexcept = default;  // so that vectors move them rather than copy
    Committed& operator=(Committed&&) noexcept = default;
    std::vector<Pending> group;
    std::vector<AppendOutcome> outcomes;
    AppendTicket ticket;
    std::chrono::steady_clock::time_point started;
  };
  void handle_delivery(http::Request request, http::Responder respond);
  void respond_counted(http::Responder& respond, http::Response response);
  void run_committer();
  void commit(std::vector<Pending>& group);
  void run_syncer();
  void answer_failed(std::vector<Pending>& group, const InboxError& error);

  const WebhooksConfig& config_;
  Inbox& inbox_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  SignatureVerifier verifier_;
  Logger log_{"webhooks"};
  ParseOptions parse_options_;

  Counter& events_stored_;
  Counter& events_duplicate_;
  Counter& events_unknown_type_;
  Counter& events_own_echo_;
  Counter& store_failures_;
  Histogram& commit_seconds_;
  Histogram& commit_group_requests_;
  Gauge& inbox_depth_;
  Gauge& inbox_oldest_age_;
  Gauge& inbox_dead_;
  Gauge& queue_depth_;
  Counter& purged_;
  Counter& purge_failures_;
  Counter& stats_failures_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread committer_;

  std::mutex sync_mutex_;
  std::condition_variable sync_wake_;
  std::deque<Committed> committed_;
  bool sync_stopping_ = false;
  std::thread syncer_;
};

}  // namespace tandem::webhooks
