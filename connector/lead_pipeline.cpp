#include "connector/lead_pipeline.hpp"

#include <csignal>
#include <future>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "connector/connections.hpp"
#include "connector/service.hpp"
#include "pipeline/backfill.hpp"
#include "rules/ruleset_holder.hpp"

namespace tandem::connector {

namespace net = boost::asio;

struct LeadPipeline::State {
  State(Service& service, const TandemConfig& config, rules::RulesetPtr initial, webhooks::Inbox& inbox,
        hubspot::Outbox& outbox, pipeline::ContactStates& states, pipeline::AuditLog& audit, UnitsOfWork& units,
        Connections& connections, MetricsRegistry& metrics, const Clock& clock)
      : service(service),
        config(config),
        states(states),
        audit(audit),
        metrics(metrics),
        clock(clock),
        holder(std::move(initial)),
        loop(service.io(), inbox, outbox, states, audit, units, holder, connections.write_path().client(), metrics, clock,
             loop_config(config),
             [&connections](std::int64_t portal) { connections.write_path().writer().wake(portal); }),
        backfill(service.io(), loop, states, units, holder, connections.write_path().client(), metrics, clock),
        hangup(service.io(), SIGHUP) {
    last_text = rule_text();
  }

  static pipeline::PipelineConfig loop_config(const TandemConfig& config) {
    pipeline::PipelineConfig c = config.pipeline.loop;
    c.own_app_id = config.hubspot.app_id;
    return c;
  }

  Service& service;
  const TandemConfig& config;
  pipeline::ContactStates& states;
  pipeline::AuditLog& audit;
  MetricsRegistry& metrics;
  const Clock& clock;
  rules::RulesetHolder holder;
  pipeline::Pipeline loop;
  pipeline::Backfill backfill;
  net::signal_set hangup;
  Logger log{"rules"};
  std::mutex reload_mutex;
  std::string last_text;       // the rule files as last read (reload_mutex)
  nlohmann::json last_reload;  // reload_mutex

  // Every rule file's name and bytes, to notice a change without compiling.
  std::string rule_text() const {
    std::string error;
    std::string out;
    for (const auto& f : rules::rule_files(config.rules.path, error)) {
      std::string text;
      if (!rules::read_file(f, text)) text = "<unreadable>";
      out += f + '\0' + text + '\0';
      // The campaigns file beside it is part of the rules.
      if (auto campaigns = rules::campaigns_file_beside(f)) {
        if (!rules::read_file(*campaigns, text)) text = "<unreadable>";
        out += *campaigns + '\0' + text + '\0';
      }
    }
    return out.empty() ? error : out;
  }

  bool reload(bool forced) {
    std::lock_guard lock(reload_mutex);
    std::string text = rule_text();
    if (!forced && text == last_text) return false;
    last_text = text;
    bool changed = false;
    rules::LoadResult result = holder.reload(config.rules.path, nullptr, &changed);
    const auto now = to_epoch_ms(clock.now());
    if (!result.ruleset) {
      const std::string report = result.diagnostics.report("the rules");
      log.error("rule files rejected; the running rules stay",
                {{"path", config.rules.path}, {"running", holder.current()->version.to_string()}, {"diagnostics", report}});
      metrics.counter("tandem_rules_reloads_total", "Reloads of the rule files, by outcome", {{"outcome", "rejected"}}).inc();
      metrics.gauge("tandem_rules_reload_failing", "1 while the rule files on disk are rejected (the old rules run)").set(1);
      last_reload = {{"at", now}, {"outcome", "rejected"}, {"diagnostics", report}};
      return false;
    }
    metrics.gauge("tandem_rules_reload_failing", "1 while the rule files on disk are rejected (the old rules run)").set(0);
    if (!changed) {
      last_reload = {{"at", now}, {"outcome", "unchanged"}};
      return false;
    }
    metrics.counter("tandem_rules_reloads_total", "Reloads of the rule files, by outcome", {{"outcome", "applied"}}).inc();
    log.info("rules reloaded", {{"path", config.rules.path}, {"version", result.ruleset->version.to_string()}});
    last_reload = {{"at", now}, {"outcome", "applied"}, {"version", result.ruleset->version.to_string()}};
    return true;
  }

  void wait_hangup() {
    hangup.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      log.info("SIGHUP: reading the rule files again");
      // Off the io thread: compiling is blocking work.
      std::thread([this] { reload(true); }).detach();
      wait_hangup();
    });
  }

  nlohmann::json rules_detail() {
    std::lock_guard lock(reload_mutex);
    auto rs = holder.current();
    nlohmann::json j{{"version", rs->version.label}, {"hash", rs->version.hash}, {"path", config.rules.path}};
    if (!last_reload.is_null()) j["last_reload"] = last_reload;
    return j;
  }

  nlohmann::json pipeline_detail() {
    nlohmann::json j;
    if (auto t = states.timer_stats(to_epoch_ms(clock.now())))
      j["timers"] = {{"scheduled", t->scheduled}, {"overdue", t->overdue}, {"oldest_overdue_ms", t->oldest_overdue_ms}};
    if (auto b = states.backfills()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : *b)
        list.push_back({{"portal", p.portal_id},
                        {"contacts", p.contacts},
                        {"finished", p.finished_at != 0},
                        {"last_error", p.last_error}});
      j["backfills"] = list;
    }
    return j;
  }

  void refresh_gauges() {
    const auto now = to_epoch_ms(clock.now());
    if (auto t = states.timer_stats(now)) {
      metrics.gauge("tandem_timers_scheduled", "Contacts with a timer (SLA deadline, escalation, cool-off end)")
          .set(static_cast<double>(t->scheduled));
      metrics.gauge("tandem_timers_overdue", "Timers past their time and not yet handled").set(static_cast<double>(t->overdue));
      metrics.gauge("tandem_timers_oldest_overdue_seconds", "How late the latest-handled timer is")
          .set(static_cast<double>(t->oldest_overdue_ms) / 1000.0);
    }
    auto rs = holder.current();
    metrics.gauge("tandem_rules_info", "1 for the rules version running", {{"version", rs->version.label}, {"hash", rs->version.hash.substr(0, 12)}})
        .set(1);
  }

  void purge() {
    const auto before = to_epoch_ms(clock.now()) - config.pipeline.audit_retention.count();
    auto a = audit.purge(before);
    auto t = states.purge_transitions(before);
    if (!a || !t) log.warn("purging old audit entries failed");
    else if (*a || *t) log.info("purged old audit entries", {{"audit", *a}, {"transitions", *t}});
  }
};

LeadPipeline::LeadPipeline(Service& service, const TandemConfig& config, rules::RulesetPtr rules,
                           webhooks::Inbox& inbox, hubspot::Outbox& outbox, pipeline::ContactStates& states,
                           pipeline::AuditLog& audit, UnitsOfWork& units, Connections& connections,
                           MetricsRegistry& metrics, const Clock& clock)
    : state_(std::make_unique<State>(service, config, std::move(rules), inbox, outbox, states, audit, units, connections,
                                     metrics, clock)) {
  State& s = *state_;
  s.loop.set_account_time_zones([&connections](std::int64_t portal) { return connections.time_zone(portal); });
  s.refresh_gauges();
  service.add_job("rules_reload", config.rules.reload_interval, [&s] { s.reload(false); });
  service.add_job("audit_purge", std::chrono::hours(1), [&s] { s.purge(); });
  service.add_readiness_detail("rules", [&s] { return s.rules_detail(); });
  service.add_readiness_detail("pipeline", [&s] { return s.pipeline_detail(); });
  service.add_metrics_refresh([&s] { s.refresh_gauges(); });
  s.wait_hangup();
  if (config.pipeline.backfill) {
    connections.on_connected([&s](std::int64_t portal) { s.backfill.start(portal); });
    connections.on_status_changed([&s](std::int64_t portal, oauth::AccountStatus status) {
      // An install served by another instance: start (or go on with) its backfill here too; the
      // progress is shared, and a page decided twice records nothing twice.
      if (status == oauth::AccountStatus::kConnected) net::post(s.service.io(), [&s, portal] { s.backfill.start(portal); });
    });
  }
  net::post(service.io(), [&s] {
    if (s.config.pipeline.backfill) s.backfill.resume_unfinished();
    s.loop.start();
  });
  service.add_drain([&s] {
    std::promise<void> stopped;
    auto done = stopped.get_future();
    net::post(s.service.io(), [&s, &stopped] {
      s.hangup.cancel();
      auto remaining = std::make_shared<int>(2);
      auto one = [remaining, &stopped] {
        if (--*remaining == 0) stopped.set_value();
      };
      s.backfill.stop(one);
      s.loop.stop(one);
    });
    done.wait();
  });
}

LeadPipeline::~LeadPipeline() = default;

pipeline::Pipeline& LeadPipeline::pipeline() { return state_->loop; }
bool LeadPipeline::reload_rules() { return state_->reload(true); }
rules::RulesetPtr LeadPipeline::rules() const { return state_->holder.current(); }

}  // namespace tandem::connector
