#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "hubspot/client.hpp"
#include "hubspot/outbox.hpp"
#include "rules/explain.hpp"

namespace tandem::pipeline {

namespace net = boost::asio;

namespace {

constexpr std::string_view kContactType = "0-1";

bool about_contacts(const webhooks::Event& e) {
  const std::string& t = e.subscription_type;
  if (t.rfind("contact.", 0) == 0) return e.object_id != 0 || t == "contact.merge";
  if (t.rfind("object.", 0) == 0) return e.object_type_id == kContactType && e.object_id != 0;
  return false;
}

bool is_deletion(const webhooks::Event& e) {
  return e.subscription_type == "contact.deletion" || e.subscription_type == "object.deletion" ||
         e.subscription_type == "contact.privacyDeletion";
}

bool is_merge(const webhooks::Event& e) {
  return e.subscription_type == "contact.merge" || e.subscription_type == "object.merge";
}

// HubSpot's merge event: primaryObjectId survives, mergedObjectIds are gone (contract §3).
struct MergeInfo {
  std::string primary;
  std::vector<std::string> merged;
};

std::optional<MergeInfo> merge_info(const webhooks::Event& e) {
  auto j = nlohmann::json::parse(e.payload, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto id_text = [](const nlohmann::json& v) -> std::string {
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_string()) return v.get<std::string>();
    return {};
  };
  MergeInfo m;
  if (auto it = j.find("primaryObjectId"); it != j.end()) m.primary = id_text(*it);
  if (auto it = j.find("newObjectId"); m.primary.empty() && it != j.end()) m.primary = id_text(*it);
  if (auto it = j.find("mergedObjectIds"); it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (auto s = id_text(v); !s.empty() && s != m.primary) m.merged.push_back(s);
  if (m.primary.empty()) return std::nullopt;
  return m;
}

std::string describe_change(const webhooks::Event& e) {
  std::string out;
  if (e.property_name) {
    out = *e.property_name + "=" + e.property_value.value_or("");
  } else {
    auto dot = e.subscription_type.find('.');
    out = dot == std::string::npos ? e.subscription_type : e.subscription_type.substr(dot + 1);
  }
  if (!e.change_source.empty()) out += " (" + e.change_source + (e.source_id.empty() ? "" : " " + e.source_id) + ")";
  return out;
}

std::string cause_of(const webhooks::Event& e) {
  if (e.source_id.rfind("userId:", 0) == 0 || e.change_source == "CRM_UI" || e.change_source == "CRM") return "person";
  if (e.change_source == "INTEGRATION") return "integration";
  return "hubspot";
}

}  // namespace

struct Pipeline::State : std::enable_shared_from_this<Pipeline::State> {
  State(net::io_context& io, webhooks::Inbox& inbox, hubspot::Outbox& outbox, ContactStates& states, AuditLog& audit,
        UnitsOfWork& units, rules::RulesetHolder& rules, hubspot::HubSpotClient& client, MetricsRegistry& metrics,
        const Clock& clock, PipelineConfig config, std::function<void(std::int64_t)> on_recorded)
      : io(io),
        inbox(inbox),
        outbox(outbox),
        states(states),
        audit(audit),
        units(units),
        rules(rules),
        client(client),
        metrics(metrics),
        clock(clock),
        config(std::move(config)),
        on_recorded(std::move(on_recorded)),
        latency(metrics.histogram("tandem_pipeline_event_latency_seconds",
                                  "From an event's arrival in the inbox to the decision it caused being recorded",
                                  {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300})) {}

  net::io_context& io;
  webhooks::Inbox& inbox;
  hubspot::Outbox& outbox;
  ContactStates& states;
  AuditLog& audit;
  UnitsOfWork& units;
  rules::RulesetHolder& rules;
  hubspot::HubSpotClient& client;
  MetricsRegistry& metrics;
  const Clock& clock;
  PipelineConfig config;
  std::function<void(std::int64_t)> on_recorded;
  std::function<std::string(std::int64_t)> account_zone;
  std::set<std::string> bad_zones;  // logged once each

  // The rules' calendar in the account's zone when the rules name none; nullopt: the rules' own.
  std::optional<rules::BusinessCalendar> account_calendar(const rules::CompiledRuleset& rs, std::int64_t portal) {
    if (!rs.ast.settings.time_zone.empty() || !account_zone) return std::nullopt;
    const std::string name = account_zone(portal);
    if (name.empty()) return std::nullopt;
    std::string problem;
    auto zone = rules::TimeZone::parse(name, &problem);
    if (!zone) {
      if (bad_zones.insert(name).second)
        log.warn("the account's time zone is unknown here: deadlines are counted in UTC",
                 {{"portal", portal}, {"time_zone", name}, {"error", problem}});
      return std::nullopt;
    }
    rules::BusinessCalendar calendar = rs.ast.settings.calendar;
    calendar.zone = std::move(*zone);
    return calendar;
  }
  Histogram& latency;
  net::thread_pool pool{1};
  Logger log{"pipeline"};
  rules::Evaluator evaluator;
  rules::Decision decision;

  // io thread only.
  bool started = false, stopping = false, running = false;
  net::steady_timer* idle = nullptr;
  std::vector<std::function<void()>> on_stopped;
  PipelineCounts counts;

  std::int64_t now_ms() const { return to_epoch_ms(clock.now()); }

  template <class F>
  net::awaitable<std::invoke_result_t<F>> on_pool(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await net::co_spawn(
        pool, [f = std::move(f)]() -> net::awaitable<R> { co_return f(); }, net::use_awaitable);
  }

  void count(const std::string& name, const std::string& help, const Labels& labels, std::uint64_t n = 1) {
    if (n) metrics.counter(name, help, labels).inc(n);
  }

  // One contact in a chunk: the events about it (none for timers and decide()).
  struct Group {
    std::string contact;
    std::vector<const webhooks::StoredEvent*> events;
    Trigger trigger;
    bool timer = false;
    bool deleted = false;
    std::vector<std::string> merged_from;
    std::optional<hubspot::CrmObject> preloaded;
  };

  enum class Outcome { kDone, kUnreadable, kStorage, kLeaseLost };
  struct ChunkResult {
    Outcome outcome = Outcome::kDone;
    std::string reason;
    std::size_t decided = 0;
  };

  net::awaitable<void> run() {
    running = true;
    while (!stopping) {
      bool worked = false;
      auto claimed =
          co_await on_pool([&] { return inbox.claim(config.claim_batch, config.lease, config.consumer); });
      if (!claimed) {
        log.warn("inbox claim failed", {{"error", claimed.error().message}});
      } else if (!claimed->empty()) {
        worked = true;
        co_await handle_events(std::move(*claimed));
      }
      if (stopping) break;
      const std::int64_t now = now_ms();
      auto due = co_await on_pool([&] { return states.claim_due(now, config.claim_batch, config.lease.count()); });
      if (!due) {
        log.warn("timer claim failed", {{"error", due.error().message}});
      } else if (!due->empty()) {
        worked = true;
        co_await handle_timers(std::move(*due));
      }
      if (!worked && !stopping) co_await sleep(config.idle_poll);
    }
    running = false;
    auto callbacks = std::move(on_stopped);
    for (auto& f : callbacks)
      if (f) f();
  }

  net::awaitable<void> sleep(std::chrono::milliseconds d) {
    net::steady_timer timer(io);
    timer.expires_after(d);
    idle = &timer;
    try {
      co_await timer.async_wait(net::use_awaitable);
    } catch (const boost::system::system_error&) {
      // woken
    }
    idle = nullptr;
  }

  net::awaitable<void> handle_events(std::vector<webhooks::StoredEvent> events) {
    // Per account, per contact, in arrival order.
    std::map<std::int64_t, std::map<std::string, Group>> portals;
    std::vector<std::int64_t> ignored;
    for (const auto& se : events) {
      const auto& e = se.event;
      if (!about_contacts(e)) {
        ignored.push_back(se.id);
        continue;
      }
      std::string contact = std::to_string(e.object_id);
      std::optional<MergeInfo> merge;
      if (is_merge(e)) {
        merge = merge_info(e);
        if (!merge) {
          ignored.push_back(se.id);
          continue;
        }
        contact = merge->primary;
      }
      Group& g = portals[e.portal_id][contact];
      g.contact = contact;
      g.trigger.kind = "webhook";
      g.events.push_back(&se);
      g.trigger.events.push_back(se.id);
      g.trigger.changes.push_back(describe_change(e));
      if (is_deletion(e)) g.deleted = true;
      if (e.subscription_type == "contact.restore" || e.subscription_type == "object.restore") g.deleted = false;
      if (merge)
        for (auto& m : merge->merged) g.merged_from.push_back(m);
    }
    if (!ignored.empty()) co_await acknowledge_only(ignored);
    for (auto& [portal, groups] : portals) {
      std::vector<Group> all;
      for (auto& [id, g] : groups) all.push_back(std::move(g));
      for (std::size_t i = 0; i < all.size() && !stopping; i += config.read_batch) {
        std::vector<Group> chunk(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(i)),
                                 std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(
                                                                           std::min(all.size(), i + config.read_batch))));
        auto result = co_await decide_chunk(portal, chunk);
        if (result.outcome == Outcome::kUnreadable) co_await defer(chunk, result.reason);
      }
    }
  }

  net::awaitable<void> acknowledge_only(const std::vector<std::int64_t>& ids) {
    auto done = co_await on_pool([&] {
      return units.run([&](UnitOfWork& unit) {
        for (auto id : ids)
          if (auto r = inbox.acknowledge(unit, id, config.consumer); !r) {
            // A lost lease: this event is someone else's now; acknowledge the others.
            if (r.error().kind == webhooks::InboxError::Kind::kStorage) return false;
          }
        return true;
      });
    });
    if (!done || !*done) {
      log.warn("could not acknowledge events", {{"events", ids.size()}, {"error", done ? "" : done.error().message}});
      co_return;
    }
    counts.events += ids.size();
    count("tandem_pipeline_events_total", "Inbox events the pipeline finished, by what it did with them",
          {{"outcome", "ignored"}}, ids.size());
  }

  net::awaitable<void> defer(const std::vector<Group>& chunk, const std::string& reason) {
    std::size_t n = 0;
    for (const auto& g : chunk) n += g.events.size();
    if (n == 0) co_return;
    co_await on_pool([&] {
      for (const auto& g : chunk)
        for (const auto* e : g.events) {
          if (auto r = inbox.retry_later(e->id, config.consumer, reason, config.retry_after); !r)
            log.warn("could not give an event back", {{"event", e->id}, {"error", r.error().message}});
        }
      return 0;
    });
    counts.deferred += n;
    count("tandem_pipeline_events_total", "Inbox events the pipeline finished, by what it did with them",
          {{"outcome", "deferred"}}, n);
  }

  net::awaitable<void> handle_timers(std::vector<DueContact> due) {
    std::map<std::int64_t, std::vector<Group>> portals;
    for (auto& d : due) {
      Group g;
      g.contact = d.contact_id;
      g.timer = true;
      g.trigger.kind = "timer";
      g.trigger.timer_reason = d.reason;
      portals[d.portal_id].push_back(std::move(g));
    }
    for (auto& [portal, all] : portals) {
      for (std::size_t i = 0; i < all.size() && !stopping; i += config.read_batch) {
        std::vector<Group> chunk(all.begin() + static_cast<std::ptrdiff_t>(i),
                                 all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + config.read_batch)));
        auto result = co_await decide_chunk(portal, chunk);
        if (result.outcome == Outcome::kDone) {
          counts.timers += chunk.size();
          count("tandem_pipeline_timers_total", "Contact timers handled (SLA deadlines, escalations, cool-off ends)", {},
                chunk.size());
        } else {
          // The lease brings them back.
          log.info("timers deferred", {{"portal", portal}, {"contacts", chunk.size()}, {"reason", result.reason}});
        }
      }
    }
  }

  net::awaitable<ChunkResult> decide_chunk(std::int64_t portal, std::vector<Group>& chunk,
                                           const std::function<bool(UnitOfWork&)>& extra = {}) {
    ChunkResult result;
    rules::RulesetPtr rs = rules.current();
    if (!rs) {
      result.outcome = Outcome::kUnreadable;
      result.reason = "no rules loaded";
      co_return result;
    }
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::string>> merges;  // from -> into
    for (const auto& g : chunk) {
      ids.push_back(g.contact);
      for (const auto& m : g.merged_from) merges.emplace_back(m, g.contact);
    }
    if (!merges.empty()) {
      auto merged = co_await on_pool([&] {
        return units.run([&](UnitOfWork& unit) {
          for (const auto& [from, into] : merges)
            if (!states.merge(unit, portal, from, into)) return false;
          return true;
        });
      });
      if (!merged || !*merged) {
        result.outcome = Outcome::kStorage;
        result.reason = merged ? "merge failed" : merged.error().message;
        co_return result;
      }
    }
    auto pending = co_await on_pool([&] { return outbox.pending_values(portal, ids); });
    if (!pending) {
      result.outcome = Outcome::kUnreadable;
      result.reason = "outbox: " + pending.error().message;
      co_return result;
    }
    std::vector<std::string> read_ids;
    std::map<std::string, const hubspot::CrmObject*> found;
    for (const auto& g : chunk) {
      if (g.preloaded)
        found[g.contact] = &*g.preloaded;
      else if (!g.deleted)
        read_ids.push_back(g.contact);
    }
    hubspot::BatchResult read;
    if (!read_ids.empty()) {
      auto answer = co_await client.batch_read_contacts(portal, read_ids, rules::read_properties(*rs));
      if (!answer) {
        result.outcome = Outcome::kUnreadable;
        result.reason = "reading contacts: " + answer.error().describe();
        count("tandem_pipeline_read_failures_total", "Batch reads of contacts that failed", {{"portal", std::to_string(portal)}});
        co_return result;
      }
      read = std::move(*answer);
      for (const auto& o : read.results) found[o.id] = &o;
    }
    auto stored = co_await on_pool([&] { return states.load(portal, ids); });
    if (!stored) {
      result.outcome = Outcome::kUnreadable;
      result.reason = "state: " + stored.error().message;
      co_return result;
    }

    const std::int64_t now = now_ms();
    const auto calendar = account_calendar(*rs, portal);
    std::vector<hubspot::Intent> intents;
    struct Save {
      std::string contact;
      StoredContact state;
    };
    std::vector<Save> saves;
    std::vector<StageTransition> transitions;
    std::vector<AuditEntry> entries;
    std::map<std::string, std::size_t> kinds;
    std::vector<std::string> said;
    for (auto& g : chunk) {
      auto st = stored->find(g.contact);
      std::optional<StoredContact> before;
      if (st != stored->end()) before = st->second;
      // Lifecycle changes made by others, learned from the events (in their own time order).
      for (const auto* se : g.events) {
        const auto& e = se->event;
        if (!e.property_name || *e.property_name != "lifecyclestage") continue;
        // Tandem's own write coming back (a replayed echo) is recorded with the decision already.
        if (e.own_echo || (e.change_source == "INTEGRATION" && !config.own_app_id.empty() && e.source_id == config.own_app_id))
          continue;
        const std::string from = before ? before->stage : "";
        if (e.property_value.value_or("") == from) continue;  // not a move
        StageTransition t;
        t.portal_id = portal;
        t.contact_id = g.contact;
        t.at = e.occurred_at;
        t.from = from;
        t.to = e.property_value.value_or("");
        t.cause = cause_of(e);
        t.source = e.change_source;
        t.source_id = e.source_id;
        t.event_id = se->id;
        transitions.push_back(std::move(t));
      }
      auto it = found.find(g.contact);
      if (it == found.end()) {
        // Deleted or merged away: nothing to decide; its timer goes.
        if (before && before->next_check_at) {
          StoredContact cleared = *before;
          cleared.next_check_at = 0;
          cleared.next_check_reason.clear();
          saves.push_back({g.contact, std::move(cleared)});
        }
        continue;
      }
      rules::ContactRecord record;
      record.id = g.contact;
      for (const auto& [name, value] : it->second->properties) record.properties.emplace_back(name, value.value_or(""));
      if (auto p = pending->find(g.contact); p != pending->end())
        for (const auto& w : p->second) {
          bool replaced = false;
          for (auto& [k, v] : record.properties)
            if (k == w.name) {
              v = w.value;
              replaced = true;
            }
          if (!replaced) record.properties.emplace_back(w.name, w.value);
        }
      evaluator.evaluate(*rs, record, before ? before->rules : rules::ContactState{}, now, decision,
                         rules::EvalOptions{.trace = true, .plan_actions = true, .calendar = calendar ? &*calendar : nullptr});
      Plan plan = plan_decision(*rs, evaluator, record, decision, portal, before, g.trigger);
      ++result.decided;
      if (plan.transition) transitions.push_back(*plan.transition);
      if (plan.audit) {
        kinds[plan.audit->kind]++;
        entries.push_back(std::move(*plan.audit));
        for (auto& a : plan.actions) said.push_back("contact " + g.contact + ": " + a);
      } else {
        kinds["no_change"]++;
      }
      for (auto& i : plan.intents) intents.push_back(std::move(i));
      saves.push_back({g.contact, std::move(plan.next)});
    }

    std::string failure;
    bool lease_lost = false;
    hubspot::RecordOutcome recorded;
    auto committed = co_await on_pool([&] {
      return units.run([&](UnitOfWork& unit) {
        if (!intents.empty()) {
          auto r = outbox.record(unit, intents, now);
          if (!r) {
            failure = "outbox: " + r.error().message;
            return false;
          }
          recorded = *r;
        }
        for (const auto& s : saves)
          if (auto r = states.save(unit, portal, s.contact, s.state); !r) {
            failure = "state: " + r.error().message;
            return false;
          }
        for (const auto& t : transitions)
          if (auto r = states.record_transition(unit, t); !r) {
            failure = "transitions: " + r.error().message;
            return false;
          }
        for (const auto& e : entries)
          if (auto r = audit.record(unit, e); !r) {
            failure = "audit: " + r.error().message;
            return false;
          }
        if (extra && !extra(unit)) {
          failure = "progress could not be recorded";
          return false;
        }
        for (const auto& g : chunk)
          for (const auto* e : g.events)
            if (auto r = inbox.acknowledge(unit, e->id, config.consumer); !r) {
              if (r.error().kind == webhooks::InboxError::Kind::kLeaseLost) lease_lost = true;
              failure = "inbox: " + r.error().message;
              return false;
            }
        return true;
      });
    });
    if (!committed || !*committed) {
      result.outcome = lease_lost ? Outcome::kLeaseLost : Outcome::kStorage;
      result.reason = committed ? failure : committed.error().message;
      log.warn("decisions not recorded", {{"portal", portal}, {"contacts", chunk.size()}, {"reason", result.reason}});
      count("tandem_pipeline_unit_failures_total", "Units of work of the pipeline that did not commit",
            {{"reason", lease_lost ? "lease_lost" : "storage"}});
      co_return result;
    }
    std::size_t events = 0;
    const std::int64_t done_at = now_ms();
    for (const auto& g : chunk)
      for (const auto* e : g.events) {
        ++events;
        latency.observe(static_cast<double>(std::max<std::int64_t>(0, done_at - e->received_at)) / 1000.0);
      }
    counts.events += events;
    counts.decisions += result.decided;
    counts.acted += entries.size();
    count("tandem_pipeline_events_total", "Inbox events the pipeline finished, by what it did with them",
          {{"outcome", "decided"}}, events);
    for (const auto& [kind, n] : kinds)
      count("tandem_pipeline_decisions_total", "Decisions about contacts, by what they did", {{"kind", kind}}, n);
    for (const auto& line : said) log.info("decided", {{"portal", portal}, {"what", line}});
    if (recorded.recorded > 0 && on_recorded) on_recorded(portal);
    co_return result;
  }
};

Pipeline::Pipeline(net::io_context& io, webhooks::Inbox& inbox, hubspot::Outbox& outbox, ContactStates& states,
                   AuditLog& audit, UnitsOfWork& units, rules::RulesetHolder& rules, hubspot::HubSpotClient& client,
                   MetricsRegistry& metrics, const Clock& clock, PipelineConfig config,
                   std::function<void(std::int64_t)> on_recorded)
    : state_(std::make_shared<State>(io, inbox, outbox, states, audit, units, rules, client, metrics, clock,
                                     std::move(config), std::move(on_recorded))) {}

Pipeline::~Pipeline() { state_->pool.join(); }

void Pipeline::set_account_time_zones(std::function<std::string(std::int64_t portal)> lookup) {
  state_->account_zone = std::move(lookup);
}

void Pipeline::start() {
  auto s = state_;
  if (s->started) return;
  s->started = true;
  net::co_spawn(s->io, [s]() -> net::awaitable<void> { co_await s->run(); },
                [s](std::exception_ptr e) {
                  if (!e) return;
                  try {
                    std::rethrow_exception(e);
                  } catch (const std::exception& ex) {
                    s->log.error("pipeline stopped by an error", {{"error", ex.what()}});
                  }
                  s->running = false;
                  auto callbacks = std::move(s->on_stopped);
                  for (auto& f : callbacks)
                    if (f) f();
                });
}

void Pipeline::stop(std::function<void()> done) {
  net::post(state_->io, [s = state_, done = std::move(done)]() mutable {
    s->stopping = true;
    if (s->idle) s->idle->cancel();
    if (!s->running) {
      if (done) done();
      return;
    }
    s->on_stopped.push_back(std::move(done));
  });
}

void Pipeline::wake() {
  net::post(state_->io, [s = state_] {
    if (s->idle) s->idle->cancel();
  });
}

hubspot::Awaitable<long> Pipeline::decide(std::int64_t portal, std::vector<ContactWork> contacts) {
  auto s = state_;
  long decided = 0;
  for (std::size_t i = 0; i < contacts.size(); i += s->config.read_batch) {
    std::vector<State::Group> chunk;
    for (std::size_t k = i; k < std::min(contacts.size(), i + s->config.read_batch); ++k) {
      State::Group g;
      g.contact = contacts[k].contact_id;
      g.trigger = contacts[k].trigger;
      chunk.push_back(std::move(g));
    }
    auto r = co_await s->decide_chunk(portal, chunk);
    if (r.outcome != State::Outcome::kDone) co_return -1;
    decided += static_cast<long>(r.decided);
  }
  co_return decided;
}

hubspot::Awaitable<long> Pipeline::decide_read(std::int64_t portal, std::vector<hubspot::CrmObject> contacts,
                                               Trigger trigger, std::function<bool(UnitOfWork&)> extra) {
  auto s = state_;
  std::vector<State::Group> chunk;
  for (auto& o : contacts) {
    State::Group g;
    g.contact = o.id;
    g.trigger = trigger;
    g.preloaded = std::move(o);
    chunk.push_back(std::move(g));
  }
  auto r = co_await s->decide_chunk(portal, chunk, extra);
  co_return r.outcome == State::Outcome::kDone ? static_cast<long>(r.decided) : -1L;
}

PipelineCounts Pipeline::counts() const { return state_->counts; }

}  // namespace tandem::pipeline
