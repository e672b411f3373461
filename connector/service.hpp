#pragma once
// The connector as one running service: one io_context (the thread that calls run()), SIGINT and
// SIGTERM, ONE HttpServer whose routes the components register, /healthz, /readyz and /metrics,
// the background jobs, and the shutdown order. Components (the webhook intake now; OAuth, the
// console and the pipeline later) do not run servers or threads for these themselves: they hand
// the service their routes, readiness checks, gauge refreshes, jobs and drains.
//
// Threads: the io thread runs every route handler (handlers must not block). Blocking work runs
// on two worker threads, each in the order it was queued, one item at a time: "tandem-probe" runs
// the readiness checks and gauge refreshes behind /readyz and /metrics (so that counting a large
// inbox never holds up the io thread), "tandem-jobs" the background jobs (so that a long purge
// never holds up a probe). A job and a probe may run at the same time: what they call must be
// thread-safe.
//
// Shutdown, on SIGINT/SIGTERM or stop(): stop accepting (requests in flight finish); run the
// drains in reverse order of registration off the io thread, which keeps running to write the
// answers they produce (the webhook receiver commits and answers everything queued); stop the
// jobs, letting a running one finish; then run() returns, and the owners destroy the components
// and the store after the service.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/http.hpp"
#include "common/http_server.hpp"
#include "common/metrics.hpp"

#include <nlohmann/json_fwd.hpp>

namespace boost::asio {
class io_context;
}

namespace tandem::webhooks {
class WebhookReceiver;
struct WebhooksConfig;
}  // namespace tandem::webhooks

namespace tandem::connector {

class Service {
 public:
  struct Options {
    // Address, port (0 picks a free one), limits and TLS of the one listener.
    http::ServerOptions server;
    // SIGINT and SIGTERM call stop() while run() runs.
    bool handle_signals = true;
    // How often the jobs look at the clock. A job's interval is measured on the Clock, so with a
    // ManualClock a job runs at the first tick after its interval has passed on that clock.
    std::chrono::milliseconds job_tick{1000};
  };
  // Must be thread-safe: it runs on the probe thread (and on the caller's, see readiness()).
  using ReadinessCheck = std::function<bool()>;

  // Binds at once: throws std::system_error when the address cannot be bound and
  // std::runtime_error when the TLS material is invalid (start-up errors). clock and metrics
  // must outlive the service.
  Service(Options options, const Clock& clock, MetricsRegistry& metrics);
  // Stops (see stop()) and waits for the shutdown to finish. Not while run() is still running.
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Registration happens before run(), on the thread that constructed the service; everything
  // registered must outlive the service (or at least its run()).
  //
  // `handler` answers every method on exactly `path` (the part of the target before '?').
  // Throws std::invalid_argument when the path does not start with '/' or is taken, including
  // /healthz, /readyz and /metrics: routes can come from the configuration.
  void add_route(std::string path, http::Handler handler);
  // `handler` answers every path that starts with `prefix`; an exact route wins over a prefix,
  // and the longest prefix wins over shorter ones. Throws like add_route().
  void add_prefix_route(std::string prefix, http::Handler handler);
  // /readyz answers 200 while the listener accepts and every check returns true, 503 otherwise;
  // either way its body is a JSON object of every check's name ("listener" included) and result.
  // A check that throws counts as false. Each evaluation sets
  // tandem_readiness_check_passing{check} to 1 or 0, and a change to failing logs a warning.
  // Throws std::invalid_argument on a duplicate name.
  void add_readiness_check(std::string name, ReadinessCheck check);
  // Adds `detail()` under "details" in the /readyz body, without deciding readiness (an account
  // that needs re-authorisation is news for the admin, not a reason to take the service out of
  // its load balancer). Runs on the probe thread; thread-safe; an exception gives null.
  void add_readiness_detail(std::string name, std::function<nlohmann::json()> detail);
  // Runs on the probe thread before each /metrics render (e.g. to read gauges from the store).
  // Thread-safe; an exception is logged and the render goes on.
  void add_metrics_refresh(std::function<void()> refresh);
  // Runs `job` on the job thread every `interval` (measured from the start of its previous
  // run; the first run one interval after run() started). A job never overlaps itself; a run that
  // takes longer than the interval delays the next. An exception is logged and counted
  // (tandem_background_job_failures_total{job}), and the job runs again at its next interval.
  void add_job(std::string name, std::chrono::milliseconds interval, std::function<void()> job);
  // Called once on shutdown, after the listener stopped accepting and before the jobs stop, off
  // the io thread (it may block) while the io thread still writes answers. Drains run in reverse
  // order of registration.
  void add_drain(std::function<void()> drain);

  // The io_context that run() runs: components with coroutines of their own (the write path, the
  // install flow) run on it.
  boost::asio::io_context& io();

  [[nodiscard]] std::uint16_t port() const;
  // "http://127.0.0.1:PORT" or "https://...".
  [[nodiscard]] std::string base_url() const;

  // Serves on the calling thread until stop() or a signal, and returns once the shutdown above
  // has finished. Call once.
  void run();
  // Starts the shutdown and returns at once. Thread-safe, idempotent, also before run() (which
  // then returns at once).
  void stop();

  // The /readyz answer, its checks run on the calling thread (blocking).
  [[nodiscard]] http::Response readiness();
  // While run() runs: looks at the jobs now rather than at the next tick, and starts every job
  // that is due and not running. The future is ready once those (and any job already running) have finished; it
  // holds std::future_error (broken promise) when the service stops first.
  std::future<void> run_due_jobs();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The webhook intake on `service`: the receiver's route at config.path, the "store_writable"
// readiness check, the inbox gauges before each /metrics render, the purge job every
// config.purge_interval, and receiver.stop() as a drain. receiver and config must outlive the
// service's run().
void add_webhook_intake(Service& service, webhooks::WebhookReceiver& receiver, const webhooks::WebhooksConfig& config);

}  // namespace tandem::connector
