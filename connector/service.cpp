#include "connector/service.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cassert>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "webhooks/config.hpp"
#include "webhooks/receiver.hpp"

namespace tandem::connector {

namespace net = boost::asio;

namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

http::Response error_response(int status, std::string_view message) {
  nlohmann::json body = {{"status", "error"}, {"message", message}};
  return http::Response::json(status, body.dump());
}

bool is_builtin(std::string_view path) { return path == "/healthz" || path == "/readyz" || path == "/metrics"; }

}  // namespace

struct Service::State {
  struct Job {
    Job(net::io_context& io, std::string job_name, std::chrono::milliseconds every, std::function<void()> job_work,
        MetricsRegistry& metrics)
        : name(std::move(job_name)),
          interval(every),
          work(std::move(job_work)),
          timer(io),
          runs(metrics.counter("tandem_background_job_runs_total", "Background job runs, by job", {{"job", name}})),
          failures(metrics.counter("tandem_background_job_failures_total", "Background job runs that failed, by job",
                                   {{"job", name}})) {}
    std::string name;
    std::chrono::milliseconds interval;
    std::function<void()> work;
    net::steady_timer timer;
    Counter& runs;
    Counter& failures;
    // Touched only on the io thread.
    Clock::SteadyTime last_start{};
    bool running = false;
  };

  State(Options opts, const Clock& c, MetricsRegistry& m) : options(std::move(opts)), clock(c), metrics(m) {
    net::post(probes, [] { set_thread_name("tandem-probe"); });
    net::post(job_runner, [] { set_thread_name("tandem-jobs"); });
    // Requests the HTTP layer refuses before any route sees them (408, 413, 431, a broken
    // message, the 503 at the connection limit) are counted here, by status and reason.
    if (!options.server.on_rejected) {
      options.server.on_rejected = [&m](int status, std::string_view reason) {
        m.counter("tandem_http_rejected_total", "Requests refused by the HTTP layer before routing, by status and reason",
                  {{"status", std::to_string(status)}, {"reason", std::string(reason)}})
            .inc();
      };
    }
    server.emplace(io, options.server, [this](http::Request request, http::Responder respond) {
      route(std::move(request), std::move(respond));
    });
  }

  void route(http::Request request, http::Responder respond);
  void serve_builtin(std::string_view path, const http::Request& request, http::Responder respond);
  // Queues blocking work for one of the worker threads; false once the jobs have stopped.
  bool submit(net::thread_pool& pool, std::function<void()> work);
  http::Response readiness();
  void arm(Job& job);
  void start(Job& job);
  [[nodiscard]] bool due(const Job& job) const { return clock.steady_now() - job.last_start >= job.interval; }
  void add_path(std::string path, http::Handler handler, bool prefix);

  Options options;
  const Clock& clock;
  MetricsRegistry& metrics;
  Logger log{"connector"};

  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> guard{io.get_executor()};
  std::optional<net::signal_set> signals;
  std::optional<http::HttpServer> server;
  // Two workers, so that a long job (a purge of a large inbox) never delays a probe: Kubernetes
  // gives /readyz a second or so before it counts a failure.
  net::thread_pool probes{1};      // /readyz and /metrics, in the order they came
  net::thread_pool job_runner{1};  // the background jobs, one at a time
  std::mutex submit_mutex;
  bool accepting_work = true;
  std::atomic<bool> jobs_stopped{false};

  // Registered before run(); read-only afterwards.
  std::map<std::string, http::Handler, std::less<>> exact_routes;
  std::vector<std::pair<std::string, http::Handler>> prefix_routes;  // longest first
  struct Check {
    std::string name;
    ReadinessCheck check;
    Gauge& passing;
  };
  std::vector<Check> checks;
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> details;
  std::vector<std::function<void()>> refreshes;
  std::vector<std::unique_ptr<Job>> jobs;
  std::vector<std::function<void()>> drains;
  bool started = false;

  std::atomic<bool> listening{true};
  std::mutex failing_mutex;
  std::map<std::string, bool> failing;  // per check, to log changes rather than every probe
  std::once_flag stop_once;
  std::thread stopper;
};

void Service::State::add_path(std::string path, http::Handler handler, bool prefix) {
  assert(!started && "routes are registered before run()");
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("route '" + path + "': a path starts with '/'");
  }
  const bool taken = is_builtin(path) || (prefix ? std::any_of(prefix_routes.begin(), prefix_routes.end(),
                                                               [&](const auto& r) { return r.first == path; })
                                                 : exact_routes.contains(path));
  if (taken) throw std::invalid_argument("route '" + path + "' is already served");
  if (!prefix) {
    exact_routes.emplace(std::move(path), std::move(handler));
    return;
  }
  prefix_routes.emplace_back(std::move(path), std::move(handler));
  std::stable_sort(prefix_routes.begin(), prefix_routes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void Service::State::route(http::Request request, http::Responder respond) {
  const std::string_view path = request.path();
  if (auto it = exact_routes.find(path); it != exact_routes.end()) {
    it->second(std::move(request), std::move(respond));
    return;
  }
  if (is_builtin(path)) {
    serve_builtin(path, request, std::move(respond));
    return;
  }
  for (auto& [prefix, handler] : prefix_routes) {
    if (path.starts_with(prefix)) {
      handler(std::move(request), std::move(respond));
      return;
    }
  }
  respond(error_response(404, "not found"));
}

void Service::State::serve_builtin(std::string_view path, const http::Request& request, http::Responder respond) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = error_response(405, "method not allowed");
    response.headers.set("Allow", "GET, HEAD");
    respond(std::move(response));
    return;
  }
  if (path == "/healthz") {
    respond(http::Response::text(200, "ok\n"));
    return;
  }
  // The Responder is move-only; the queued work is a std::function.
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  if (path == "/readyz") {
    if (!submit(probes, [this, shared] { (*shared)(readiness()); })) (*shared)(error_response(503, "stopping"));
    return;
  }
  const bool queued = submit(probes, [this, shared] {
    for (auto& refresh : refreshes) {
      try {
        refresh();
      } catch (const std::exception& e) {
        metrics.counter("tandem_metrics_refresh_failures_total", "Gauge refreshes before a /metrics render that failed")
            .inc();
        log.warn("gauge refresh failed; /metrics shows the last values", {{"error", e.what()}});
      }
    }
    (*shared)(http::Response::text(200, metrics.render(), kMetricsContentType));
  });
  // Stopping: the counters are still worth a scrape, without a refresh from the store.
  if (!queued) (*shared)(http::Response::text(200, metrics.render(), kMetricsContentType));
}

bool Service::State::submit(net::thread_pool& pool, std::function<void()> work) {
  std::lock_guard lock(submit_mutex);
  if (!accepting_work) return false;
  net::post(pool, std::move(work));
  return true;
}

http::Response Service::State::readiness() {
  nlohmann::json body = nlohmann::json::object();
  const bool up = listening.load();
  body["listener"] = up;
  bool ready = up;
  for (auto& [name, check, passing] : checks) {
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception& e) {
      log.warn("readiness check threw", {{"check", name}, {"error", e.what()}});
    }
    body[name] = ok;
    passing.set(ok ? 1 : 0);
    ready = ready && ok;
    std::lock_guard lock(failing_mutex);
    bool& was_failing = failing[name];
    if (!ok && !was_failing) log.warn("readiness check fails: /readyz answers 503", {{"check", name}});
    if (ok && was_failing) log.info("readiness check passes again", {{"check", name}});
    was_failing = !ok;
  }
  if (!details.empty()) {
    nlohmann::json d = nlohmann::json::object();
    for (auto& [name, detail] : details) {
      try {
        d[name] = detail();
      } catch (const std::exception& e) {
        log.warn("readiness detail threw", {{"detail", name}, {"error", e.what()}});
        d[name] = nullptr;
      }
    }
    body["details"] = std::move(d);
  }
  return http::Response::json(ready ? 200 : 503, body.dump());
}

void Service::State::arm(Job& job) {
  if (jobs_stopped) return;
  // Sleep until the job is due on the clock, but never past one tick, so that a clock that does
  // not follow real time (a ManualClock) is looked at again soon.
  // Rounded up: a wait rounded down to 0 would spin until the job is due.
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(job.interval - (clock.steady_now() - job.last_start));
  wait = std::clamp(wait, std::chrono::milliseconds(0), options.job_tick);
  job.timer.expires_after(wait);
  job.timer.async_wait([this, &job](const boost::system::error_code& ec) {
    if (ec || jobs_stopped || job.running) return;
    if (due(job)) {
      start(job);
    } else {
      arm(job);
    }
  });
}

void Service::State::start(Job& job) {
  job.running = true;
  job.last_start = clock.steady_now();
  const bool queued = submit(job_runner, [this, &job] {
    job.runs.inc();
    try {
      job.work();
    } catch (const std::exception& e) {
      job.failures.inc();
      log.warn("background job failed; it runs again at its next interval", {{"job", job.name}, {"error", e.what()}});
    }
    net::post(io, [this, &job] {
      job.running = false;
      arm(job);
    });
  });
  if (!queued) job.running = false;
}

Service::Service(Options options, const Clock& clock, MetricsRegistry& metrics)
    : state_(std::make_unique<State>(std::move(options), clock, metrics)) {}

Service::~Service() {
  stop();
  if (state_->stopper.joinable()) state_->stopper.join();
}

void Service::add_route(std::string path, http::Handler handler) {
  state_->add_path(std::move(path), std::move(handler), /*prefix=*/false);
}

void Service::add_prefix_route(std::string prefix, http::Handler handler) {
  state_->add_path(std::move(prefix), std::move(handler), /*prefix=*/true);
}

void Service::add_readiness_check(std::string name, ReadinessCheck check) {
  State& s = *state_;
  assert(!s.started && "readiness checks are registered before run()");
  if (name == "listener" ||
      std::any_of(s.checks.begin(), s.checks.end(), [&](const State::Check& c) { return c.name == name; })) {
    throw std::invalid_argument("readiness check '" + name + "' is already registered");
  }
  Gauge& passing =
      s.metrics.gauge("tandem_readiness_check_passing",
                      "1 while the readiness check passed at its last evaluation, by check", {{"check", name}});
  passing.set(1);
  s.checks.push_back(State::Check{std::move(name), std::move(check), passing});
}

void Service::add_readiness_detail(std::string name, std::function<nlohmann::json()> detail) {
  State& s = *state_;
  assert(!s.started && "readiness details are registered before run()");
  s.details.emplace_back(std::move(name), std::move(detail));
}

void Service::add_metrics_refresh(std::function<void()> refresh) {
  assert(!state_->started && "metrics refreshes are registered before run()");
  state_->refreshes.push_back(std::move(refresh));
}

void Service::add_job(std::string name, std::chrono::milliseconds interval, std::function<void()> job) {
  State& s = *state_;
  assert(!s.started && "jobs are registered before run()");
  assert(interval.count() > 0);
  s.jobs.push_back(std::make_unique<State::Job>(s.io, std::move(name), interval, std::move(job), s.metrics));
}

void Service::add_drain(std::function<void()> drain) {
  assert(!state_->started && "drains are registered before run()");
  state_->drains.push_back(std::move(drain));
}

std::uint16_t Service::port() const { return state_->server->port(); }
std::string Service::base_url() const { return state_->server->base_url(); }

void Service::run() {
  State& s = *state_;
  assert(!s.started && "run() is called once");
  s.started = true;
  if (s.options.handle_signals) {
    s.signals.emplace(s.io, SIGINT, SIGTERM);
    s.signals->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      state_->log.info("signal received: shutting down", {{"signal", signal}});
      stop();
    });
  }
  net::post(s.io, [&s] {
    const auto now = s.clock.steady_now();
    for (auto& job : s.jobs) {
      job->last_start = now;
      s.arm(*job);
    }
  });
  s.log.info("listening", {{"url", s.server->base_url()}});
  s.io.run();
  if (s.stopper.joinable()) s.stopper.join();
  s.log.info("stopped");
}

void Service::stop() {
  State& s = *state_;
  std::call_once(s.stop_once, [&s] {
    s.listening = false;
    s.server->stop();
    // Drains may block (the receiver waits for its committer): off the io thread, which must keep
    // running to write the answers they post.
    s.stopper = std::thread([&s] {
      set_thread_name("tandem-stop");
      for (auto it = s.drains.rbegin(); it != s.drains.rend(); ++it) (*it)();
      s.jobs_stopped = true;
      {
        std::lock_guard lock(s.submit_mutex);
        s.accepting_work = false;
      }
      // Waits for a running job and for probes already queued; nothing new is queued.
      s.job_runner.join();
      s.probes.join();
      net::post(s.io, [&s] {
        for (auto& job : s.jobs) job->timer.cancel();
        if (s.signals) s.signals->cancel();
        s.guard.reset();
      });
    });
  });
}

http::Response Service::readiness() { return state_->readiness(); }

boost::asio::io_context& Service::io() { return state_->io; }

std::future<void> Service::run_due_jobs() {
  State& s = *state_;
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> result = done->get_future();
  net::post(s.io, [&s, done] {
    if (!s.jobs_stopped) {
      for (auto& job : s.jobs) {
        if (!job->running && s.due(*job)) s.start(*job);
      }
    }
    // The job worker runs its queue in order: this runs after every job queued before it.
    if (!s.submit(s.job_runner, [done] { done->set_value(); })) done->set_value();
  });
  return result;
}

void add_webhook_intake(Service& service, webhooks::WebhookReceiver& receiver, const webhooks::WebhooksConfig& config) {
  service.add_route(receiver.path(), receiver.handler());
  service.add_readiness_check("store_writable", [&receiver] { return receiver.store_writable(); });
  service.add_metrics_refresh([&receiver] { receiver.refresh_inbox_gauges(); });
  service.add_job("inbox_purge", config.purge_interval, [&receiver] { receiver.purge_expired(); });
  service.add_drain([&receiver] { receiver.stop(); });
}

}  // namespace tandem::connector
