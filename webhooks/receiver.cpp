#include "webhooks/receiver.hpp"


#include <nlohmann/json.hpp>

#include "common/thread_name.hpp"

namespace tandem::webhooks {
namespace {

http::Response error_response(int status, std::string_view reason) {
  nlohmann::json body = {{"status", "error"}, {"message", reason}};
  return http::Response::json(status, body.dump());
}

std::vector<double> group_buckets() { return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}; }

}  // namespace

WebhookReceiver::WebhookReceiver(const WebhooksConfig& config, Inbox& inbox, const Clock& clock,
                                 MetricsRegistry& metrics)
    : config_(config),
      inbox_(inbox),
      clock_(clock),
      metrics_(metrics),
      verifier_(config, clock),
      events_stored_(metrics.counter("tandem_webhook_events_total", "Webhook events received, by result",
                                     {{"result", "stored"}})),
      events_duplicate_(metrics.counter("tandem_webhook_events_total", "Webhook events received, by result",
                                        {{"result", "duplicate"}})),
      events_unknown_type_(metrics.counter("tandem_webhook_unknown_subscription_type_total",
                                           "Events received with a subscription type Tandem does not know, redeliveries included (stored anyway)")),
      events_own_echo_(metrics.counter("tandem_webhook_own_echo_total",
                                       "Events caused by Tandem's own writes, stored as skipped (redeliveries not counted)")),
      store_failures_(metrics.counter("tandem_inbox_commit_failures_total",
                                      "Inbox transactions that failed (requests answered 503)")),
      commit_seconds_(metrics.histogram("tandem_inbox_commit_seconds",
                                        "Time from the start of a group's inbox transaction until it is durable",
                                        MetricsRegistry::latency_buckets())),
      commit_group_requests_(metrics.histogram("tandem_inbox_commit_group_requests",
                                               "Requests sharing one inbox transaction", group_buckets())),
      inbox_depth_(metrics.gauge("tandem_inbox_depth", "Events not yet processed (pending or claimed)")),
      inbox_oldest_age_(metrics.gauge("tandem_inbox_oldest_unprocessed_age_seconds",
                                      "Age of the oldest unprocessed event")),
      inbox_dead_(metrics.gauge("tandem_inbox_dead_events", "Dead-lettered events")),
      queue_depth_(metrics.gauge("tandem_webhook_commit_queue_requests", "Requests waiting for the committer")),
      purged_(metrics.counter("tandem_inbox_purged_events_total",
                              "Processed events deleted after the dedup retention")),
      purge_failures_(metrics.counter("tandem_inbox_purge_failures_total",
                                      "Inbox purges that failed (retried at the next interval)")),
      stats_failures_(metrics.counter("tandem_inbox_stats_failures_total",
                                      "Inbox counts for /metrics that failed (the gauges keep their last values)")) {
  parse_options_.max_events = config_.max_events_per_request;
  parse_options_.own_app_id = config_.app_id;
  committer_ = std::thread([this] {
    set_thread_name("tandem-commit");
    run_committer();
  });
  syncer_ = std::thread([this] {
    set_thread_name("tandem-sync");
    run_syncer();
  });
}

WebhookReceiver::~WebhookReceiver() { stop(); }

http::ServerOptions WebhookReceiver::server_options(const WebhooksConfig& config, std::string address,
                                                    std::uint16_t port) {
  http::ServerOptions options;
  options.address = std::move(address);
  options.port = port;
  options.header_limit = config.header_limit;
  options.body_limit = config.body_limit;
  options.read_timeout = config.read_timeout;
  options.max_connections = config.max_connections;
  options.retry_after_seconds = config.retry_after_seconds;
  return options;
}

http::Handler WebhookReceiver::handler() {
  return [this](http::Request request, http::Responder respond) { handle(std::move(request), std::move(respond)); };
}

void WebhookReceiver::respond_counted(http::Responder& respond, http::Response response) {
  metrics_
      .counter("tandem_webhook_requests_total", "Webhook deliveries answered, by status",
               {{"status", std::to_string(response.status)}})
      .inc();
  respond(std::move(response));
}

void WebhookReceiver::handle(http::Request request, http::Responder respond) {
  const std::string_view path = request.path();
  if (path == config_.path) {
    if (request.method != "POST") {
      auto response = error_response(405, "method not allowed");
      response.headers.set("Allow", "POST");
      respond_counted(respond, std::move(response));
      return;
    }
    handle_delivery(std::move(request), std::move(respond));
    return;
  }
  respond(error_response(404, "not found"));
}

void WebhookReceiver::handle_delivery(http::Request request, http::Responder respond) {
  // The server enforces the same limit while reading; this guards a handler reused elsewhere.
  if (request.body.size() > config_.body_limit) {
    respond_counted(respond, error_response(413, "body too large"));
    return;
  }
  const SignatureCheck check = verifier_.verify(request);
  if (!check.ok()) {
    metrics_
        .counter("tandem_webhook_signature_failures_total", "Deliveries rejected for their signature, by reason",
                 {{"reason", std::string(to_string(check.failure))}})
        .inc();
    log_.warn("webhook signature rejected",
              {{"reason", to_string(check.failure)}, {"version", check.version}, {"remote", request.remote_address}});
    respond_counted(respond, error_response(401, "invalid signature"));
    return;
  }
  ParseResult parsed = parse_events(request.body, parse_options_);
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    metrics_.counter("tandem_webhook_malformed_total", "Signed deliveries rejected as malformed (400)").inc();
    log_.warn("webhook body rejected", {{"reason", error->reason}, {"remote", request.remote_address}});
    respond_counted(respond, error_response(400, error->reason));
    return;
  }
  auto& events = std::get<std::vector<Event>>(parsed);
  for (const Event& e : events) {
    if (!e.known_type) events_unknown_type_.inc();
  }
  std::unique_lock lock(mutex_);
  if (stopping_ || queue_.size() >= config_.max_pending_requests) {
    const bool stopping = stopping_;
    lock.unlock();
    metrics_.counter("tandem_webhook_overload_total", "Deliveries refused with 503 before storing").inc();
    log_.warn("webhook delivery refused", {{"reason", stopping ? "stopping" : "commit queue full"}});
    auto response = error_response(503, stopping ? "stopping" : "overloaded");
    response.headers.set("Retry-After", std::to_string(config_.retry_after_seconds));
    respond_counted(respond, std::move(response));
    return;
  }
  queue_.push_back(Pending{std::move(events), std::move(respond), clock_.steady_now()});
  queue_depth_.set(static_cast<double>(queue_.size()));
  lock.unlock();
  wake_.notify_one();
}

void WebhookReceiver::run_committer() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_ && queue_.empty()) return;  // stopping and drained
      group.clear();
      group.reserve(queue_.size());
      for (auto& p : queue_) group.push_back(std::move(p));
      queue_.clear();
      queue_depth_.set(0);
    }
    if (!group.empty()) commit(group);
  }
}

bool WebhookReceiver::store_writable() { return inbox_.writable(); }

void WebhookReceiver::purge_expired() {
  auto purged = inbox_.purge(config_.dedup_retention);
  if (!purged) {
    purge_failures_.inc();
    log_.warn("inbox purge failed; retrying at the next interval", {{"error", purged.error().message}});
    return;
  }
  purged_.inc(*purged);
  if (*purged > 0) log_.info("purged processed events past the dedup retention", {{"events", *purged}});
}

void WebhookReceiver::commit(std::vector<Pending>& group) {
  std::vector<const std::vector<Event>*> batches;
  batches.reserve(group.size());
  for (const auto& p : group) batches.push_back(&p.events);
  Committed committed;
  committed.started = std::chrono::steady_clock::now();
  auto appended = inbox_.append_committed(batches);
  commit_group_requests_.observe(static_cast<double>(group.size()));
  if (!appended) {
    answer_failed(group, appended.error());
    return;
  }
  committed.outcomes = std::move(appended->outcomes);
  committed.ticket = appended->ticket;
  committed.group = std::move(group);
  group.clear();  // moved from: make it empty for the next round
  {
    std::lock_guard lock(sync_mutex_);
    committed_.push_back(std::move(committed));
  }
  sync_wake_.notify_one();
}

void WebhookReceiver::run_syncer() {
  std::vector<Committed> ready;
  std::unique_lock lock(sync_mutex_);
  for (;;) {
    sync_wake_.wait(lock, [this] { return sync_stopping_ || !committed_.empty(); });
    if (committed_.empty()) return;  // stopping and drained
    ready.clear();
    for (auto& c : committed_) ready.push_back(std::move(c));
    committed_.clear();
    lock.unlock();
    // One flush for every group committed so far: the committer goes on with the next group
    // meanwhile, so a group's cost is its inserts, not inserts plus a flush.
    auto synced = inbox_.sync(ready.back().ticket);
    const auto now = std::chrono::steady_clock::now();
    for (auto& c : ready) {
      commit_seconds_.observe(std::chrono::duration<double>(now - c.started).count());
      if (!synced) {
        answer_failed(c.group, synced.error());
        continue;
      }
      for (std::size_t i = 0; i < c.group.size(); ++i) {
        events_stored_.inc(c.outcomes[i].stored);
        events_duplicate_.inc(c.outcomes[i].duplicates);
        events_own_echo_.inc(c.outcomes[i].own_echoes);
        nlohmann::json body = {{"stored", c.outcomes[i].stored}, {"duplicates", c.outcomes[i].duplicates}};
        respond_counted(c.group[i].respond, http::Response::json(200, body.dump()));
      }
    }
    ready.clear();  // releases the groups' events before waiting again
    lock.lock();
  }
}

void WebhookReceiver::answer_failed(std::vector<Pending>& group, const InboxError& error) {
  store_failures_.inc();
  log_.error("inbox commit or flush failed; deliveries answered 503 for HubSpot to retry",
             {{"error", error.message}, {"requests", group.size()}});
  for (auto& p : group) {
    auto response = error_response(503, "store unavailable");
    response.headers.set("Retry-After", std::to_string(config_.retry_after_seconds));
    respond_counted(p.respond, std::move(response));
  }
}

void WebhookReceiver::refresh_inbox_gauges() {
  auto s = inbox_.stats();
  if (!s) {
    stats_failures_.inc();
    log_.warn("inbox stats failed; the inbox gauges keep their last values", {{"error", s.error().message}});
    return;
  }
  inbox_depth_.set(static_cast<double>(s->unprocessed));
  inbox_dead_.set(static_cast<double>(s->dead));
  inbox_oldest_age_.set(std::chrono::duration<double>(s->oldest_unprocessed_age).count());
}

void WebhookReceiver::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable() && committer_.get_id() != std::this_thread::get_id()) committer_.join();
  // After the committer: it hands its last groups to the syncer, which answers them and stops.
  {
    std::lock_guard lock(sync_mutex_);
    sync_stopping_ = true;
  }
  sync_wake_.notify_all();
  if (syncer_.joinable() && syncer_.get_id() != std::this_thread::get_id()) syncer_.join();
}

}  // namespace tandem::webhooks
