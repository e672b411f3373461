#include "hubspot/outbox_writer.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"

namespace tandem::hubspot {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// Association type of a task to its contact (contract §5.2).
constexpr int kTaskToContact = 204;

std::string trace_id(const OutboxItem& item) { return "tandem-" + std::to_string(item.id); }

std::map<std::string, std::string> to_map(const std::vector<PropertyWrite>& properties) {
  std::map<std::string, std::string> out;
  for (const auto& p : properties) out[p.name] = p.value;
  return out;
}

// The task body as sent: the recorded body, then the marker on a line of its own.
std::string body_with_marker(const OutboxItem& item) {
  std::string body;
  for (const auto& p : item.properties)
    if (p.name == "hs_task_body") body = p.value;
  std::string marker = task_marker(item.key);
  return body.empty() ? marker : body + "\n\n" + marker;
}

// The marker a task body carries (task_marker()), wherever HubSpot's rich-text editing put it;
// empty when it has none.
std::string marker_in(std::string_view body) {
  auto from = body.rfind("[tandem:");
  if (from == std::string_view::npos) return {};
  auto to = body.find(']', from);
  if (to == std::string_view::npos) return {};
  return std::string(body.substr(from, to - from + 1));
}

// The objectWriteTraceId a 207 error names (contract §4: context.objectWriteTraceId).
std::string error_trace(const ApiErrorBody& e) {
  auto it = e.context.find("objectWriteTraceId");
  if (it == e.context.end() || it->second.empty()) return {};
  return it->second.front();
}

bool is_daily_limit(const ApiError& e) {
  return e.kind == ApiError::Kind::kHttp && e.status == 429 && e.body.policy_name == "DAILY";
}

// Leaves the first half in `items` and returns the second (a batch refused whole is halved to
// find the inputs HubSpot refuses).
std::vector<OutboxItem> split_off_half(std::vector<OutboxItem>& items) {
  std::vector<OutboxItem> second(std::make_move_iterator(items.begin() + items.size() / 2),
                                 std::make_move_iterator(items.end()));
  items.resize(items.size() / 2);
  return second;
}

std::string describe_batch_error(const ApiErrorBody& e) {
  std::string out = e.category.empty() ? "error" : e.category;
  if (!e.message.empty()) out += ": " + e.message;
  if (!e.correlation_id.empty()) out += " (correlationId " + e.correlation_id + ")";
  return out;
}

}  // namespace

struct OutboxWriter::State : std::enable_shared_from_this<OutboxWriter::State> {
  struct Account {
    std::int64_t portal = 0;
    std::set<net::steady_timer*> idle;  // workers waiting for work
    int workers = 0;
    std::size_t next_lane = 0;
    std::int64_t paused_until = 0;  // DAILY, or awaiting authorisation: epoch ms
    bool awaiting_authorisation = false;
    std::optional<std::string> time_zone;
  };

  State(net::io_context& io, Outbox& outbox, HubSpotClient& client, AccountRateLimiter& limiter, MetricsRegistry& metrics,
        const Clock& clock, WriterConfig config)
      : io(io),
        outbox(outbox),
        client(client),
        limiter(limiter),
        metrics(metrics),
        clock(clock),
        config(std::move(config)),
        rng(this->config.random_seed ? this->config.random_seed : std::random_device{}()) {}

  net::io_context& io;
  Outbox& outbox;
  HubSpotClient& client;
  AccountRateLimiter& limiter;
  MetricsRegistry& metrics;
  const Clock& clock;
  WriterConfig config;
  net::thread_pool pool{1};
  Logger log{"outbox"};
  std::mt19937_64 rng;

  // io thread only.
  std::map<std::int64_t, Account> accounts;
  bool started = false;
  bool stopping = false;
  int workers = 0;
  std::vector<std::function<void()>> on_stopped;

  std::atomic<std::uint64_t> written{0}, retried{0}, dead{0}, lookups{0}, found{0}, requests{0};

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  // Runs blocking outbox work on the pool; the coroutine resumes on the io_context.
  template <class F>
  net::awaitable<std::invoke_result_t<F>> on_pool(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await net::co_spawn(
        pool, [f = std::move(f)]() -> net::awaitable<R> { co_return f(); }, net::use_awaitable);
  }

  Labels labels(std::int64_t portal, Lane lane) const {
    return {{"portal", std::to_string(portal)}, {"lane", std::string(to_string(lane))}};
  }
  void count(std::int64_t portal, Lane lane, std::string_view outcome, std::size_t n = 1) {
    if (n == 0) return;
    auto l = labels(portal, lane);
    l["outcome"] = outcome;
    metrics.counter("tandem_outbox_items_total", "Outbox items sent to HubSpot, by what became of them", l).inc(n);
  }

  void ensure_account(std::int64_t portal) {
    auto [it, inserted] = accounts.try_emplace(portal);
    Account& a = it->second;
    if (inserted) a.portal = portal;
    if (stopping) return;
    while (a.workers < std::max(1, config.requests_per_account)) {
      ++a.workers;
      ++workers;
      net::co_spawn(io, worker(a), [self = shared_from_this(), portal](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            self->log.error("outbox worker ended by an exception", {{"portal", portal}, {"error", ex.what()}});
          }
        }
        self->worker_ended(portal);
      });
    }
  }

  void worker_ended(std::int64_t portal) {
    --accounts[portal].workers;
    if (--workers == 0 && stopping) {
      auto callbacks = std::move(on_stopped);
      for (auto& f : callbacks)
        if (f) f();
    }
  }

  void clear_authorisation_pause(Account& a) {
    a.awaiting_authorisation = false;
    metrics.gauge("tandem_outbox_account_awaiting_authorisation",
                  "1 while an account's writes wait for a new install (needs re-authorisation or not connected)",
                  {{"portal", std::to_string(a.portal)}})
        .set(0);
  }

  void resume_account(std::int64_t portal) {
    ensure_account(portal);
    Account& a = accounts[portal];
    if (a.awaiting_authorisation) {
      a.paused_until = 0;
      clear_authorisation_pause(a);
    }
    for (auto* t : a.idle) t->cancel();
  }

  void wake_account(std::int64_t portal) {
    ensure_account(portal);
    for (auto* t : accounts[portal].idle) t->cancel();
  }

  net::awaitable<void> sleep_until(Account& a, std::int64_t until_ms) {
    net::steady_timer timer(io);
    auto wait = std::chrono::milliseconds(std::max<std::int64_t>(0, until_ms - now_ms()));
    timer.expires_after(std::min<std::chrono::milliseconds>(wait, config.idle_poll));
    a.idle.insert(&timer);
    boost::system::error_code ec;
    try {
      co_await timer.async_wait(net::use_awaitable);
    } catch (const boost::system::system_error&) {
      // cancelled by wake() or stop()
    }
    a.idle.erase(&timer);
  }

  net::awaitable<void> worker(Account& a) {
    auto self = shared_from_this();
    while (!stopping) {
      std::int64_t now = now_ms();
      if (a.paused_until > now) {
        co_await sleep_until(a, a.paused_until);
        continue;
      }
      if (a.awaiting_authorisation) clear_authorisation_pause(a);
      bool worked = false;
      for (std::size_t i = 0; i < std::size(kLanes) && !stopping; ++i) {
        Lane lane = kLanes[(a.next_lane + i) % std::size(kLanes)];
        auto taken = co_await on_pool([&] { return outbox.take(a.portal, lane, config.batch_max, now); });
        if (!taken) {
          log.warn("outbox take failed", {{"portal", a.portal}, {"error", taken.error().message}});
          metrics.counter("tandem_outbox_storage_errors_total", "Outbox calls that failed on storage").inc();
          break;
        }
        if (taken->empty()) continue;
        a.next_lane = (a.next_lane + i + 1) % std::size(kLanes);
        worked = true;
        std::vector<Completion> done;
        if (lane == Lane::kTaskCreates)
          co_await process_tasks(a, std::move(*taken), done);
        else
          co_await process_updates(a, lane, std::move(*taken), done);
        co_await finish(a.portal, done);
        break;
      }
      if (worked || stopping) continue;
      auto due = co_await on_pool([&] { return outbox.next_due(a.portal); });
      std::int64_t until = now_ms() + config.idle_poll.count();
      if (due && *due) until = std::min(until, **due);
      co_await sleep_until(a, until);
    }
  }

  net::awaitable<void> finish(std::int64_t portal, const std::vector<Completion>& done) {
    if (done.empty()) co_return;
    std::int64_t now = now_ms();
    for (int attempt = 0;; ++attempt) {
      auto r = co_await on_pool([&] { return outbox.complete(done, now); });
      if (r) co_return;
      // The outcome is known but could not be recorded: keep trying, because giving up would
      // send again what HubSpot already applied (a duplicate task). The items stay in flight,
      // so nothing else takes them meanwhile.
      log.warn("outbox complete failed; retrying", {{"portal", portal}, {"error", r.error().message}});
      metrics.counter("tandem_outbox_storage_errors_total", "Outbox calls that failed on storage").inc();
      net::steady_timer t(io, std::min<std::chrono::milliseconds>(std::chrono::milliseconds(100) * (1 << std::min(attempt, 6)), 5s));
      co_await t.async_wait(net::use_awaitable);
    }
  }

  // The retry time of a failed item, or a dead letter once it has failed too often.
  Completion retry(const OutboxItem& item, Completion::Kind kind, std::int64_t at, std::string why, int status) {
    Completion c{.id = item.id, .kind = kind, .retry_at = at, .error = std::move(why), .status = status};
    if (kind == Completion::Kind::kRetry && item.attempts + 1 >= config.max_attempts) {
      c.kind = Completion::Kind::kDead;
      c.error = "gave up after " + std::to_string(item.attempts + 1) + " sends: " + c.error;
    }
    return c;
  }

  // Applies the retry policy to a failed call for every item of it. Returns false when the
  // decision is kDead (the caller splits or dead-letters).
  bool apply_failure(Account& a, Lane lane, const ApiError& error, const std::vector<OutboxItem>& items,
                     std::vector<Completion>& done, Completion::Kind retry_kind) {
    std::int64_t now = now_ms();
    int attempts = 0;
    for (const auto& i : items) attempts = std::max(attempts, i.attempts);
    auto decision = decide_retry(error, attempts, now, a.time_zone.value_or(""), rng, config.retry);
    std::string why = error.describe();
    switch (decision.kind) {
      case RetryDecision::Kind::kDead:
        return false;
      case RetryDecision::Kind::kPauseAccount: {
        a.paused_until = decision.until;
        auto steady = clock.steady_now() + std::chrono::milliseconds(std::max<std::int64_t>(0, decision.until - now));
        limiter.pause(a.portal, Budget::kGeneral, steady);
        limiter.pause(a.portal, Budget::kSearch, steady);
        log.warn("HubSpot's daily limit reached: the account pauses until the reset",
                 {{"portal", a.portal}, {"until", decision.until}, {"time_zone", a.time_zone.value_or("UTC")}});
        metrics.gauge("tandem_outbox_account_paused", "1 while an account waits for HubSpot's daily reset",
                      {{"portal", std::to_string(a.portal)}})
            .set(1);
        for (const auto& i : items) done.push_back(Completion{.id = i.id, .kind = retry_kind, .retry_at = decision.until, .error = why, .status = error.status});
        break;
      }
      case RetryDecision::Kind::kAwaitAuthorisation: {
        // Nothing can be sent for the account until it is installed again; its items wait, and
        // this never counts towards giving up on them. resume() ends the pause at once.
        if (!a.awaiting_authorisation) {
          log.warn("the account has no usable token: its writes pause until it is installed again",
                   {{"portal", a.portal}, {"error", why}});
          metrics.gauge("tandem_outbox_account_awaiting_authorisation",
                        "1 while an account's writes wait for a new install (needs re-authorisation or not connected)",
                        {{"portal", std::to_string(a.portal)}})
              .set(1);
        }
        a.awaiting_authorisation = true;
        a.paused_until = now + decision.delay.count();
        // Due at once: the pause, not the items, holds them back, so a resume sends them now.
        for (const auto& i : items)
          done.push_back(Completion{.id = i.id, .kind = retry_kind, .retry_at = now, .error = why, .status = error.status});
        return true;
      }
      case RetryDecision::Kind::kRateLimited:
        // A 429 says nothing about the items: it never counts towards giving up on them.
        for (const auto& i : items)
          done.push_back(Completion{.id = i.id, .kind = retry_kind, .retry_at = now + decision.delay.count(), .error = why,
                                    .status = error.status});
        break;
      case RetryDecision::Kind::kRetry:
        for (const auto& i : items) done.push_back(retry(i, retry_kind, now + decision.delay.count(), why, error.status));
        break;
    }
    retried += items.size();
    count(a.portal, lane, retry_kind == Completion::Kind::kUnknown ? "unknown" : "retried", items.size());
    log.warn("HubSpot call failed; items will be retried",
             {{"portal", a.portal}, {"lane", to_string(lane)}, {"items", items.size()}, {"error", why}});
    return true;
  }

  void dead_letter(Account& a, Lane lane, const OutboxItem& item, std::string why, int status, std::vector<Completion>& done) {
    done.push_back(Completion{.id = item.id, .kind = Completion::Kind::kDead, .error = why, .status = status});
    ++dead;
    count(a.portal, lane, "dead");
    metrics.counter("tandem_outbox_dead_letters_total", "Outbox items HubSpot refused (see tandem outbox list --state dead)",
                    labels(a.portal, lane))
        .inc();
    log.warn("HubSpot refused an item: dead-lettered",
             {{"portal", a.portal}, {"lane", to_string(lane)}, {"item", item.id}, {"contact", item.contact_id}, {"error", why}});
  }

  // The time zone for a DAILY reset: read once per account.
  net::awaitable<void> learn_time_zone(Account& a) {
    // Once per account; and not while it is paused, which the read would wait out.
    if (a.time_zone || a.paused_until > now_ms()) co_return;
    auto details = co_await client.account_details(a.portal);
    if (details) a.time_zone = details->time_zone;
  }

  void records_per_call(Lane lane, std::size_t n) {
    metrics
        .histogram("tandem_outbox_records_per_call", "Records in each batch request to HubSpot",
                   {1, 10, 25, 50, 75, 99, 100}, {{"lane", std::string(to_string(lane))}})
        .observe(static_cast<double>(n));
  }

  net::awaitable<void> process_updates(Account& a, Lane lane, std::vector<OutboxItem> items, std::vector<Completion>& done) {
    std::vector<UpdateInput> inputs;
    inputs.reserve(items.size());
    for (const auto& i : items) inputs.push_back(UpdateInput{i.contact_id, to_map(i.properties), trace_id(i)});
    records_per_call(lane, items.size());
    ++requests;
    auto r = co_await client.batch_update_contacts(a.portal, std::move(inputs));
    if (!r) {
      ApiError error = r.error();
      if (is_daily_limit(error)) co_await learn_time_zone(a);
      if (apply_failure(a, lane, error, items, done, Completion::Kind::kRetry)) co_return;
      if (items.size() > 1) {
        // A 4xx for the whole batch: find the inputs HubSpot refuses by halving it.
        auto second = split_off_half(items);
        co_await process_updates(a, lane, std::move(items), done);
        co_await process_updates(a, lane, std::move(second), done);
        co_return;
      }
      dead_letter(a, lane, items.front(), error.describe(), error.status, done);
      co_return;
    }
    std::map<std::string, const ApiErrorBody*> refused;
    for (const auto& e : r->errors)
      if (auto t = error_trace(e); !t.empty()) refused[t] = &e;
    std::set<std::string> updated;
    for (const auto& o : r->results) updated.insert(o.id);
    std::int64_t now = now_ms();
    std::size_t ok = 0;
    for (const auto& i : items) {
      if (auto it = refused.find(trace_id(i)); it != refused.end()) {
        dead_letter(a, lane, i, describe_batch_error(*it->second), 207, done);
      } else if (updated.count(i.contact_id) || r->errors.empty()) {
        done.push_back(Completion{.id = i.id, .kind = Completion::Kind::kWritten});
        ++ok;
      } else {
        // Neither in the results nor named by an error: send again (updates are idempotent).
        done.push_back(retry(i, Completion::Kind::kRetry, now + config.retry.base.count(), "not in HubSpot's batch answer", 207));
        ++retried;
        count(a.portal, lane, "retried");
      }
    }
    written += ok;
    count(a.portal, lane, "written", ok);
  }

  net::awaitable<void> process_tasks(Account& a, std::vector<OutboxItem> items, std::vector<Completion>& done) {
    std::vector<OutboxItem> fresh, unknown;
    for (auto& i : items) (i.outcome_unknown ? unknown : fresh).push_back(std::move(i));
    if (!unknown.empty()) co_await look_up(a, std::move(unknown), done);
    if (!fresh.empty()) co_await create_tasks(a, std::move(fresh), done);
  }

  net::awaitable<void> create_tasks(Account& a, std::vector<OutboxItem> items, std::vector<Completion>& done) {
    const Lane lane = Lane::kTaskCreates;
    std::vector<CreateInput> inputs;
    inputs.reserve(items.size());
    for (const auto& i : items) {
      CreateInput in;
      in.properties = to_map(i.properties);
      in.properties["hs_task_body"] = body_with_marker(i);
      in.associations.push_back(AssociationTarget{i.contact_id, {AssociationType{"HUBSPOT_DEFINED", kTaskToContact}}});
      in.object_write_trace_id = trace_id(i);
      inputs.push_back(std::move(in));
    }
    records_per_call(lane, items.size());
    ++requests;
    auto r = co_await client.batch_create_tasks(a.portal, std::move(inputs));
    std::int64_t now = now_ms();
    if (!r) {
      ApiError error = r.error();
      // Whether HubSpot applied it is unknown: after a reset or timeout once the request was
      // written, a success whose body was lost, and a 5xx (a gateway may have given up on a
      // request the backend still completes). Look it up rather than send it again.
      if (error.maybe_applied || (error.kind == ApiError::Kind::kHttp && error.status >= 500)) {
        for (const auto& i : items)
          done.push_back(Completion{.id = i.id, .kind = Completion::Kind::kUnknown, .retry_at = now + config.settle.count(),
                                    .error = error.describe(), .status = error.status});
        count(a.portal, lane, "unknown", items.size());
        log.warn("task creation outcome unknown; will look it up before sending again",
                 {{"portal", a.portal}, {"items", items.size()}, {"error", error.describe()}});
        co_return;
      }
      if (is_daily_limit(error)) co_await learn_time_zone(a);
      if (apply_failure(a, lane, error, items, done, Completion::Kind::kRetry)) co_return;
      if (items.size() > 1) {
        auto second = split_off_half(items);
        co_await create_tasks(a, std::move(items), done);
        co_await create_tasks(a, std::move(second), done);
        co_return;
      }
      dead_letter(a, lane, items.front(), error.describe(), error.status, done);
      co_return;
    }
    std::map<std::string, std::string> created;  // trace id → task id
    std::map<std::string, std::string> by_marker;
    for (const auto& o : r->results) {
      if (!o.object_write_trace_id.empty()) created[o.object_write_trace_id] = o.id;
      auto body = o.properties.find("hs_task_body");
      if (body != o.properties.end() && body->second) by_marker[marker_in(*body->second)] = o.id;
    }
    std::map<std::string, const ApiErrorBody*> refused;
    for (const auto& e : r->errors)
      if (auto t = error_trace(e); !t.empty()) refused[t] = &e;
    std::size_t ok = 0;
    for (const auto& i : items) {
      std::string id;
      if (auto it = created.find(trace_id(i)); it != created.end()) id = it->second;
      if (id.empty())
        if (auto it = by_marker.find(task_marker(i.key)); it != by_marker.end()) id = it->second;
      if (!id.empty()) {
        done.push_back(Completion{.id = i.id, .kind = Completion::Kind::kWritten, .hubspot_id = id});
        ++ok;
      } else if (auto it = refused.find(trace_id(i)); it != refused.end()) {
        dead_letter(a, lane, i, describe_batch_error(*it->second), 207, done);
      } else {
        done.push_back(Completion{.id = i.id, .kind = Completion::Kind::kUnknown, .retry_at = now + config.settle.count(),
                                  .error = "not in HubSpot's batch answer", .status = 207});
        count(a.portal, lane, "unknown");
      }
    }
    written += ok;
    count(a.portal, lane, "written", ok);
  }

  // Reads every task associated with `contact` and returns marker → task id.
  using Bodies = std::map<std::string, std::string>;
  net::awaitable<ApiResult<Bodies>> task_bodies(std::int64_t portal, std::string contact) {
    std::vector<std::string> ids;
    std::string after;
    do {
      ++requests;
      auto page = co_await client.associations(portal, "contacts", contact, "tasks", after);
      if (!page) co_return ApiResult<Bodies>(page.error());
      for (const auto& r : page->results) ids.push_back(r.to_object_id);
      after = page->next_after;
    } while (!after.empty());
    Bodies bodies;
    for (std::size_t from = 0; from < ids.size(); from += 100) {
      std::vector<std::string> chunk(ids.begin() + from, ids.begin() + std::min(ids.size(), from + 100));
      ++requests;
      // A named vector, not a braced list inside co_await: GCC 12 rejects the latter.
      std::vector<std::string> properties{"hs_task_body"};
      auto read = co_await client.batch_read_tasks(portal, std::move(chunk), std::move(properties));
      if (!read) co_return ApiResult<Bodies>(read.error());
      for (const auto& o : read->results) {
        auto body = o.properties.find("hs_task_body");
        if (body != o.properties.end() && body->second) bodies[marker_in(*body->second)] = o.id;
      }
    }
    co_return ApiResult<Bodies>(std::move(bodies));
  }

  net::awaitable<void> look_up(Account& a, std::vector<OutboxItem> items, std::vector<Completion>& done) {
    const Lane lane = Lane::kTaskCreates;
    std::int64_t now = now_ms();
    std::map<std::string, std::vector<const OutboxItem*>> by_contact;
    for (const auto& i : items) {
      if (i.sent_at + config.settle.count() > now) {
        // Too early: HubSpot may still be applying the earlier send.
        done.push_back(Completion{.id = i.id, .kind = Completion::Kind::kUnknown, .retry_at = i.sent_at + config.settle.count(),
                                  .error = "waiting to look up an earlier send"});
        continue;
      }
      by_contact[i.contact_id].push_back(&i);
    }
    std::optional<std::pair<std::int64_t, ApiError>> failed;  // the first lookup failure defers the rest
    for (const auto& [contact, list] : by_contact) {
      if (failed) {
        for (const auto* i : list)
          done.push_back(Completion{.id = i->id, .kind = Completion::Kind::kUnknown, .retry_at = failed->first,
                                    .error = failed->second.describe(), .status = failed->second.status});
        continue;
      }
      auto bodies = co_await task_bodies(a.portal, contact);
      if (!bodies) {
        ApiError error = bodies.error();
        auto decision = decide_retry(error, 0, now, a.time_zone.value_or(""), rng, config.retry);
        std::int64_t at = now + std::max<std::int64_t>(decision.delay.count(), config.retry.base.count());
        if (decision.kind == RetryDecision::Kind::kPauseAccount) at = decision.until;
        for (const auto* i : list)
          done.push_back(Completion{.id = i->id, .kind = Completion::Kind::kUnknown, .retry_at = at, .error = error.describe(),
                                    .status = error.status});
        metrics.counter("tandem_outbox_lookups_total", "Task creations of unknown outcome looked up in HubSpot",
                        {{"portal", std::to_string(a.portal)}, {"result", "failed"}})
            .inc(list.size());
        log.warn("looking up tasks of unknown outcome failed; the lookups of this batch wait",
                 {{"portal", a.portal}, {"contact", contact}, {"error", error.describe()}});
        failed.emplace(at, error);
        continue;
      }
      for (const auto* i : list) {
        ++lookups;
        auto it = bodies->find(task_marker(i->key));
        bool hit = it != bodies->end();
        metrics.counter("tandem_outbox_lookups_total", "Task creations of unknown outcome looked up in HubSpot",
                        {{"portal", std::to_string(a.portal)}, {"result", hit ? "found" : "absent"}})
            .inc();
        if (hit) {
          ++found;
          ++written;
          count(a.portal, lane, "written");
          done.push_back(Completion{.id = i->id, .kind = Completion::Kind::kWritten, .hubspot_id = it->second});
        } else {
          // Not applied: the next take() sends it.
          done.push_back(Completion{.id = i->id, .kind = Completion::Kind::kRetry, .retry_at = now, .error = "not found in HubSpot after an unknown outcome"});
        }
      }
    }
  }
};

OutboxWriter::OutboxWriter(net::io_context& io, Outbox& outbox, HubSpotClient& client, AccountRateLimiter& limiter,
                           MetricsRegistry& metrics, const Clock& clock, WriterConfig config)
    : state_(std::make_shared<State>(io, outbox, client, limiter, metrics, clock, std::move(config))) {}

OutboxWriter::~OutboxWriter() { state_->pool.join(); }

void OutboxWriter::start() {
  auto s = state_;
  if (s->started) return;
  s->started = true;
  if (auto released = s->outbox.release_in_flight(); !released) {
    s->log.warn("outbox: could not release items left in flight", {{"error", released.error().message}});
  } else if (*released > 0) {
    s->log.info("outbox: items left in flight by a stopped process are pending again", {{"items", *released}});
  }
  auto portals = s->outbox.portals();
  if (!portals) {
    s->log.warn("outbox: could not list accounts", {{"error", portals.error().message}});
    return;
  }
  for (auto p : *portals) s->ensure_account(p);
}

void OutboxWriter::wake(std::int64_t portal) {
  net::post(state_->io, [s = state_, portal] { s->wake_account(portal); });
}

void OutboxWriter::resume(std::int64_t portal) {
  net::post(state_->io, [s = state_, portal] { s->resume_account(portal); });
}

void OutboxWriter::stop(std::function<void()> done) {
  net::post(state_->io, [s = state_, done = std::move(done)]() mutable {
    s->stopping = true;
    s->limiter.close();
    for (auto& [p, a] : s->accounts)
      for (auto* t : a.idle) t->cancel();
    if (s->workers == 0) {
      if (done) done();
      return;
    }
    s->on_stopped.push_back(std::move(done));
  });
}

OutboxWriter::Counts OutboxWriter::counts() const {
  return {state_->written.load(), state_->retried.load(), state_->dead.load(),
          state_->lookups.load(), state_->found.load(),   state_->requests.load()};
}

}  // namespace tandem::hubspot
