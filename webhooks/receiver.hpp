#pragma once
// The webhook receiver: POST <config.path> verifies the signature on the raw bytes, parses the
// events, hands them to a committer thread and answers 2xx only after the inbox transaction that
// holds them is durable. Concurrent requests share one transaction (group commit), and commits
// are pipelined: a syncer thread waits for the flush of committed groups (one flush covers all
// of them) while the committer writes the next group. Also serves /healthz, /readyz and /metrics.
//
// Statuses: 200 stored (body {"stored":n,"duplicates":d}); 400 malformed body (reason in the
// body); 401 missing/invalid signature; 404/405 other routes; 413 body too large; 503 + Retry-After
// when the committer queue is full, the store failed, or the receiver is stopping. Nothing is
// stored unless the answer is 200.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
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

  // The HttpServer handler. Never blocks: verification and parsing are CPU-only and bounded by
  // the body limit; storage runs on the committer thread, /readyz and /metrics on a prober thread
  // (so that counting a large inbox never delays a commit).
  [[nodiscard]] http::Handler handler();
  void handle(http::Request request, http::Responder respond);

  // Server options derived from the config (limits, timeouts); address and port from the caller.
  [[nodiscard]] static http::ServerOptions server_options(const WebhooksConfig& config, std::string address,
                                                          std::uint16_t port);

  // /readyz reports ready only while the listener is up and the store is writable.
  void set_listening(bool listening) { listening_ = listening; }

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
  using Probe = std::function<void()>;

  void handle_delivery(http::Request request, http::Responder respond);
  void respond_counted(http::Responder& respond, http::Response response);
  void run_committer();
  void run_prober();
  void commit(std::vector<Pending>& group);
  void run_syncer();
  void answer_failed(std::vector<Pending>& group, const InboxError& error);
  void refresh_inbox_gauges();
  void purge_if_due();
  bool enqueue_probe(Probe probe);

  const WebhooksConfig& config_;
  Inbox& inbox_;
  const Clock& clock_;
  MetricsRegistry& metrics_;
  SignatureVerifier verifier_;
  Logger log_{"webhooks"};
  ParseOptions parse_options_;
  std::atomic<bool> listening_{false};

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
  Clock::SteadyTime last_purge_;

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

  std::mutex probe_mutex_;
  std::condition_variable probe_wake_;
  std::deque<Probe> probes_;
  bool probes_stopping_ = false;
  std::thread prober_;
};

}  // namespace tandem::webhooks
