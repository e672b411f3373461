#include "pipeline/backfill.hpp"

#include <set>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "hubspot/client.hpp"
#include "rules/explain.hpp"

namespace tandem::pipeline {

namespace net = boost::asio;

struct Backfill::State : std::enable_shared_from_this<Backfill::State> {
  State(net::io_context& io, Pipeline& pipeline, ContactStates& states, UnitsOfWork& units, rules::RulesetHolder& rules,
        hubspot::HubSpotClient& client, MetricsRegistry& metrics, const Clock& clock, BackfillConfig config)
      : io(io),
        pipeline(pipeline),
        states(states),
        units(units),
        rules(rules),
        client(client),
        metrics(metrics),
        clock(clock),
        config(config) {}

  net::io_context& io;
  Pipeline& pipeline;
  ContactStates& states;
  UnitsOfWork& units;
  rules::RulesetHolder& rules;
  hubspot::HubSpotClient& client;
  MetricsRegistry& metrics;
  const Clock& clock;
  BackfillConfig config;
  Logger log{"backfill"};
  std::set<std::int64_t> running;
  std::set<net::steady_timer*> pauses;
  bool stopping = false;
  std::vector<std::function<void()>> on_stopped;

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  void gauges(const BackfillProgress& p) {
    const std::string portal = std::to_string(p.portal_id);
    metrics.gauge("tandem_backfill_contacts", "Contacts of the account evaluated by its backfill so far", {{"portal", portal}})
        .set(static_cast<double>(p.contacts));
    metrics.gauge("tandem_backfill_running", "1 while the account's backfill runs", {{"portal", portal}})
        .set(p.finished_at == 0 ? 1 : 0);
  }

  net::awaitable<void> pause() {
    net::steady_timer timer(io);
    timer.expires_after(config.retry_pause);
    pauses.insert(&timer);
    try {
      co_await timer.async_wait(net::use_awaitable);
    } catch (const boost::system::system_error&) {
    }
    pauses.erase(&timer);
  }

  net::awaitable<void> run(BackfillProgress progress) {
    log.info(progress.contacts ? "backfill resumed" : "backfill started",
             {{"portal", progress.portal_id}, {"contacts_so_far", progress.contacts}});
    gauges(progress);
    while (!stopping) {
      rules::RulesetPtr rs = rules.current();
      auto page = co_await client.list_contacts(progress.portal_id, progress.after, rs->properties(), config.page_size);
      if (!page) {
        progress.last_error = page.error().describe();
        log.warn("backfill page failed; trying again", {{"portal", progress.portal_id}, {"error", progress.last_error}});
        co_await pause();
        continue;
      }
      BackfillProgress next = progress;
      next.after = page->next_after;
      next.contacts += static_cast<std::int64_t>(page->results.size());
      next.last_error.clear();
      if (page->next_after.empty()) next.finished_at = now_ms();
      Trigger trigger;
      trigger.kind = "backfill";
      std::function<bool(UnitOfWork&)> save = [this, &next](UnitOfWork& unit) {
        return states.save_backfill(unit, next).has_value();
      };
      std::vector<hubspot::CrmObject> contacts = std::move(page->results);
      auto decided = co_await pipeline.decide_read(progress.portal_id, std::move(contacts), trigger, std::move(save));
      if (decided < 0) {
        log.warn("backfill page not recorded; trying again", {{"portal", progress.portal_id}});
        co_await pause();
        continue;
      }
      progress = next;
      gauges(progress);
      if (progress.finished_at) {
        log.info("backfill finished", {{"portal", progress.portal_id},
                                       {"contacts", progress.contacts},
                                       {"seconds", static_cast<double>(progress.finished_at - progress.started_at) / 1000.0}});
        break;
      }
      if (progress.contacts % 1000 < config.page_size)
        log.info("backfill progress", {{"portal", progress.portal_id}, {"contacts", progress.contacts}});
    }
    running.erase(progress.portal_id);
    if (running.empty() && stopping) {
      auto callbacks = std::move(on_stopped);
      for (auto& f : callbacks)
        if (f) f();
    }
  }

  void launch(BackfillProgress p) {
    if (!running.insert(p.portal_id).second) return;
    auto self = shared_from_this();
    net::co_spawn(io, run(std::move(p)), [self](std::exception_ptr e) {
      if (e) self->log.error("backfill stopped by an error");
    });
  }
};

Backfill::Backfill(net::io_context& io, Pipeline& pipeline, ContactStates& states, UnitsOfWork& units,
                   rules::RulesetHolder& rules, hubspot::HubSpotClient& client, MetricsRegistry& metrics,
                   const Clock& clock, BackfillConfig config)
    : state_(std::make_shared<State>(io, pipeline, states, units, rules, client, metrics, clock, config)) {}

Backfill::~Backfill() = default;

void Backfill::start(std::int64_t portal) {
  auto& s = *state_;
  if (s.stopping || s.running.count(portal)) return;
  auto all = s.states.backfills();
  if (!all) {
    s.log.warn("cannot read backfill progress", {{"error", all.error().message}});
    return;
  }
  for (const auto& p : *all)
    if (p.portal_id == portal) {
      if (!p.finished_at) s.launch(p);
      return;  // it ran already: the account's contacts are known
    }
  BackfillProgress p;
  p.portal_id = portal;
  p.started_at = s.now_ms();
  s.launch(p);
}

void Backfill::resume_unfinished() {
  auto& s = *state_;
  auto all = s.states.backfills();
  if (!all) {
    s.log.warn("cannot read backfill progress", {{"error", all.error().message}});
    return;
  }
  for (const auto& p : *all) {
    s.gauges(p);
    if (!p.finished_at) s.launch(p);
  }
}

void Backfill::stop(std::function<void()> done) {
  auto& s = *state_;
  s.stopping = true;
  for (auto* t : s.pauses) t->cancel();
  if (s.running.empty()) {
    if (done) done();
    return;
  }
  s.on_stopped.push_back(std::move(done));
}

}  // namespace tandem::pipeline
